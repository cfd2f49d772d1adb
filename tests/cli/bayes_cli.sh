#!/bin/sh
# pdsim fit --prior: the posterior mode, the Laplace covariance and the HMC
# draws against independent numpy computations (tests/reference/bayes_check.py),
# the limits of the prior (flat = MLE, very tight = the prior mean), the
# convergence rules, the draws file and its loader.
#   bayes_cli.sh PDSIM_BINARY REPO_ROOT
set -u
PDSIM=$1
ROOT=$2
PY=$(sh "$ROOT/scripts/find-python.sh" numpy scipy yaml h5py)
if [ -z "$PY" ]; then
    echo "SKIPPED: no Python with numpy, scipy, yaml and h5py (set PDSIM_PYTHON)"
    exit 77
fi
. "$ROOT/tests/cli/lib.sh"
CHECK="$PY -I $ROOT/tests/reference/bayes_check.py"
DS=$ROOT/data/china-group-schooling
M1=$ROOT/models/wu-zhao-2025-model1.yaml
M2=$ROOT/models/wu-zhao-2025-model2.yaml
SMALL=$ROOT/tests/data/bayes_small.yaml
US=$ROOT/configs/us-lottery.yaml
USM=$ROOT/models/us-lottery-berry-berry.yaml
cd "$TMP" || exit 1

# the limits of the prior
check "plain fit" "$PDSIM" fit "$DS" "$M1" -o mle.yaml
check "flat prior" "$PDSIM" fit "$DS" "$M1" --prior flat --draws 200 --warmup 200 -o flat.yaml
check "flat prior mode = MLE (1e-9 se)" $CHECK close flat.yaml mle.yaml 1e-9
check "very wide prior" "$PDSIM" fit "$DS" "$M1" --prior "$M1" --prior-scale 1e4 --draws 200 \
    --warmup 200 -o wide.yaml
check "very wide prior mode = MLE (1e-6 se)" $CHECK close wide.yaml mle.yaml 1e-6
check "very tight prior" "$PDSIM" fit "$DS" "$M1" --prior "$M1" --prior-scale 1e-4 --draws 200 \
    --warmup 200 -o tight.yaml
check "very tight prior mode = the prior mean (1e-6)" $CHECK at_prior tight.yaml "$M1" 1e-6

# mode, Laplace covariance, posterior mean and sd against numpy; diagnostics
# recomputed from the draws file
check "small model, prior with a default term" "$PDSIM" fit "$DS" "$SMALL" --prior "$M1" -s 7 \
    -o small.yaml --export-table small.csv
cp "$TMP/out.txt" small.out
check "small model: the default prior is printed" grep -q "^cities_pct .*default N(0, 10^2)" small.out
check "small model: mode, Laplace, mean and sd vs numpy" $CHECK mode small.csv small.yaml "$M1" 1 10
check "small model: R-hat, ESS, quantiles vs numpy" $CHECK diag small.draws.csv small.yaml
check "prior with a covariance, K = 2" "$PDSIM" fit "$US" "$USM" --prior "$USM" --prior-scale 2 \
    --chains 3 --draws 1500 --warmup 1000 -s 3 -o us.yaml --export-table us.csv
check "covariance prior: mode, Laplace, mean and sd vs numpy" $CHECK mode us.csv us.yaml "$USM" 2 10
check "covariance prior: R-hat, ESS vs numpy" $CHECK diag us.draws.csv us.yaml
check "--prior-default-sd" "$PDSIM" fit "$DS" "$SMALL" --prior "$M1" --prior-default-sd 0.05 \
    --draws 500 --warmup 500 -o sd.yaml --export-table sd.csv
check "--prior-default-sd: mode vs numpy" $CHECK mode sd.csv sd.yaml "$M1" 1 0.05

# reproducible: the same seed gives the same draws, another seed others
check "same seed" "$PDSIM" fit "$DS" "$SMALL" --prior "$M1" -s 7 -o again.yaml
check "same seed, same draws" cmp small.draws.csv again.draws.csv
check "another seed" "$PDSIM" fit "$DS" "$SMALL" --prior "$M1" -s 8 -o other.yaml
check "another seed, other draws" sh -c '! cmp -s small.draws.csv other.draws.csv'
check "any number of threads" env OMP_NUM_THREADS=1 "$PDSIM" fit "$DS" "$SMALL" --prior "$M1" -s 7 \
    -o one.yaml
check "one thread, same draws" cmp small.draws.csv one.draws.csv

# the written model reads back (pdsim fit takes it as a specification)
check "the posterior model loads" "$PDSIM" fit "$DS" small.yaml
check "without --prior no posterior is written" sh -c '! grep -q posterior mle.yaml && [ ! -e mle.draws.csv ]'

# chains that have not converged: exit 3, nothing written; the override writes
check "R-hat > 1.1: exit 3" status_is 3 "$PDSIM" fit "$DS" "$M2" --prior flat --warmup 10 --draws 20 -s 1 \
    -o short.yaml
check "R-hat > 1.1: refused with the reason" grep -q "have not converged (max R-hat" "$TMP/s.err"
check "R-hat > 1.1: nothing written" sh -c '[ ! -e short.yaml ] && [ ! -e short.draws.csv ]'
check "R-hat > 1.1: warnings per coefficient" grep -q "warning: posterior of" "$TMP/s.err"
check "--accept-nonconvergence writes" "$PDSIM" fit "$DS" "$M2" --prior flat --warmup 10 --draws 20 -s 1 \
    --accept-nonconvergence -o short.yaml
check "short chains (autocorrelated): R-hat, ESS vs numpy" $CHECK diag short.draws.csv short.yaml

# bad input: exit 2 with file:line
sed 's/coef: 0.096, se: 0.049/coef: 0.096, se: 0/' "$M1" >se0.yaml
check "a prior with se 0: exit 2" status_is 2 "$PDSIM" fit "$DS" "$SMALL" --prior se0.yaml
check "... naming the file and line" grep -q "se0.yaml:[0-9]*:.*urbanization_pct.*standard error 0" "$TMP/s.err"
cp "$M1" badprior.yaml
sed -i 's/{name: urbanization_pct, variable: urbanization_pct/{name: urbanization_pct, variable: region/' badprior.yaml
check "a prior on another quantity under the same name: exit 2" status_is 2 "$PDSIM" fit "$DS" "$SMALL" --prior badprior.yaml
check "... naming the file and line" grep -q "badprior.yaml:[0-9]*:.*urbanization_pct" "$TMP/s.err"
check "--prior with two models: exit 2" status_is 2 "$PDSIM" fit "$DS" "$M1" "$M2" --prior flat
check "--prior with --firth: exit 2" status_is 2 "$PDSIM" fit "$DS" "$M1" --prior flat --firth
check "--prior-scale 0: exit 2" status_is 2 "$PDSIM" fit "$DS" "$M1" --prior flat --prior-scale 0
check "--chains 1: exit 2" status_is 2 "$PDSIM" fit "$DS" "$M1" --prior flat --chains 1
cp small.yaml b1.yaml
cp small.draws.csv b1.draws.csv
sed -i 's/draws_file: "small.draws.csv"/draws_file: "b1.draws.csv"/' b1.yaml
sed -i '5s/^1,4,[^,]*,/1,4,oops,/' b1.draws.csv
check "a draw that is not a number: exit 2" status_is 2 "$PDSIM" fit "$DS" b1.yaml
check "... naming the draws file and line" grep -q "b1.draws.csv:5:.*(Intercept).*oops" "$TMP/s.err"
cp small.draws.csv b1.draws.csv
sed -i '$d' b1.draws.csv
check "a draw missing: exit 2" status_is 2 "$PDSIM" fit "$DS" b1.yaml
check "... saying how many rows" grep -q "b1.draws.csv:.*8000 rows" "$TMP/s.err"
sed '1s/cities_pct/other/' small.draws.csv >b1.draws.csv
check "a wrong header: exit 2" status_is 2 "$PDSIM" fit "$DS" b1.yaml
check "... on line 1" grep -q "b1.draws.csv:1:" "$TMP/s.err"
rm b1.draws.csv
check "no draws file: exit 2" status_is 2 "$PDSIM" fit "$DS" b1.yaml
check "... naming the model's line" grep -q "b1.yaml:[0-9]*:[0-9]*: posterior.draws_file" "$TMP/s.err"
sed 's/^  rhat: \[\([^,]*\),.*/  rhat: [\1]/' small.yaml >b2.yaml
cp small.draws.csv b2.draws.csv
sed -i 's/draws_file: "small.draws.csv"/draws_file: "b2.draws.csv"/' b2.yaml
check "a posterior list of the wrong length: exit 2" status_is 2 "$PDSIM" fit "$DS" b2.yaml
check "... naming the line" grep -q "b2.yaml:[0-9]*:.*posterior.rhat: expected 3 numbers" "$TMP/s.err"

# uncertainty: posterior: each run takes a posterior draw chosen by its
# coefficient stream; common random numbers between a scenario and its baseline
check "a posterior with dynamic terms" "$PDSIM" fit "$DS" "$M2" --prior "$M1" --draws 500 --warmup 500 \
    -s 5 -o m2post.yaml
cat >post.yaml <<CFG
dataset: $DS
model: $TMP/m2post.yaml
base_year: 2023
horizon: 2030
runs: 400
seed: 99
uncertainty: posterior
output: $TMP/post.h5
CFG
sed -e 's|^output: .*|output: '"$TMP"'/scen.h5|' post.yaml >scen.yaml
cat >>scen.yaml <<CFG
scenario:
  name: "two more central documents in 2024"
  central_documents:
    - {year: 2024, count: 2, weight: 1, title: "test"}
CFG
check "run with uncertainty: posterior" "$PDSIM" run post.yaml -q
check "per-run coefficients are rows of the draws file" $CHECK runs post.h5 m2post.draws.csv
check "the same seed again, 1 thread" "$PDSIM" run post.yaml -q -j 1 -o again.h5
check "the same seed gives identical output" $CHECK same post.h5 again.h5
check "the scenario" "$PDSIM" run scen.yaml -q
check "the scenario pairs with the baseline run for run" $CHECK pair post.h5 scen.h5
check "compare accepts the pair" "$PDSIM" compare post.h5 scen.h5
sed -e 's|^model: .*|model: '"$M2"'|' post.yaml >noposterior.yaml
check "a model without a posterior: exit 2" status_is 2 "$PDSIM" run noposterior.yaml -q -o np.h5
check "... saying so" grep -q "has no posterior draws" "$TMP/s.err"
check "... and no output" sh -c '[ ! -e np.h5 ]'
sed -e 's|^model: .*|models: [{model: '"$TMP"'/m2post.yaml, weight: 1}, {model: '"$TMP"'/m2post.yaml, weight: 1}]|' post.yaml >twomodels.yaml
check "posterior with several models" "$PDSIM" run twomodels.yaml -q -o two.h5
check "... each run takes a row of its own model's draws" $CHECK runs two.h5 m2post.draws.csv
cat >sweep.yaml <<CFG
config: post.yaml
design: grid
runs_per_point: 10
seed: 1
parameters:
  model.central_documents: {levels: [0.1, 0.3]}
CFG
check "a sweep cannot vary the coefficients of a posterior: exit 2" status_is 2 "$PDSIM" sweep sweep.yaml -o sweepdir
check "... saying why" grep -q "sweep.yaml:[0-9]*:[0-9]*:.*cannot vary: under uncertainty: posterior" "$TMP/s.err"
# terms matched to the prior by quantity when the names differ: level
# dummies of one unit attribute, a per-term lag and interactions are told
# apart (the tight prior puts the mode at each one's own prior mean)
cat >qprior.yaml <<'YAML'
name: qprior
link: logit
lag: 1
intercept: {coef: -4.0, se: 1.0}
terms:
  - {name: "region[central]", unit: region, level: central, coef: 1.0, se: 0.5}
  - {name: "region[west]", unit: region, level: west, coef: -2.0, se: 0.5}
  - {name: college2, variable: college_pct, lag: 2, coef: -0.02, se: 0.01}
  - {name: college1, variable: college_pct, coef: 0.03, se: 0.01}
  - {name: dx, interact: [{dynamic: central_documents}, {dynamic: neighbours_adopted_pct}], coef: 0.005, se: 0.002}
  - {name: dxw, interact: [{dynamic: central_documents}, {unit: region, level: west}], coef: -0.1, se: 0.05}
YAML
cat >qspec.yaml <<'YAML'
name: qspec
link: logit
lag: 1
terms:
  - {name: west, unit: region, level: west}
  - {name: central, unit: region, level: central}
  - {name: c1, variable: college_pct}
  - {name: c2, variable: college_pct, lag: 2}
  - {name: west_docs, interact: [{unit: region, level: west}, {dynamic: central_documents}]}
  - {name: nbr_docs, interact: [{dynamic: neighbours_adopted_pct}, {dynamic: central_documents}]}
YAML
check "prior matched by quantity" "$PDSIM" fit "$DS" qspec.yaml --prior qprior.yaml \
    --prior-scale 1e-4 --draws 200 --warmup 200 -o qfit.yaml
check "... each term at its own prior mean" "$PY" -I -c '
import re, sys
text = open("qfit.yaml").read()
got = {m.group(1): float(m.group(2)) for m in
       re.finditer(r"\{name: \"([^\"]+)\".*?, coef: ([-0-9.eE+]+), se:", text)}
want = {"west": -2.0, "central": 1.0, "c1": 0.03, "c2": -0.02, "west_docs": -0.1,
        "nbr_docs": 0.005}
bad = [k for k, v in want.items() if abs(got.get(k, 1e9) - v) > 1e-4 * max(abs(v), 0.01)]
print(got)
sys.exit(1 if bad else 0)'
sed -e 's/name: c2, variable: college_pct, lag: 2/name: college2, variable: college_pct, lag: 3/' \
    qspec.yaml >qspec-lag.yaml
check "a prior on another lag of the same name: exit 2" status_is 2 "$PDSIM" fit "$DS" \
    qspec-lag.yaml --prior qprior.yaml --draws 200 --warmup 200 -o qlag.yaml
check "... saying which" grep -q "college2.*lag 2.*lag 3" "$TMP/s.err"
finish
