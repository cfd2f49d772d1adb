#include <stdio.h>
#include <string.h>

#include "../io/config.h"
#include "../io/dataset.h"
#include "../io/study.h"
#include "../io/calibrate.h"
#include "../io/sweep.h"
#include "cli.h"

static void put_line(void *ctx, const char *line)
{
    fprintf(ctx, "%s\n", line);
}

static const char usage[] =
    "pdsim: agent-based Monte Carlo simulation of policy diffusion\n"
    "\n"
    "usage:\n"
    "  pdsim run CONFIG.yaml [-n RUNS] [-s SEED] [-o OUT.h5] [-j THREADS] [-q] [--resume]\n"
    "            [--replace] [--no-backtest]\n"
    "  pdsim validate CONFIG.yaml\n"
    "  pdsim fit CONFIG.yaml [MODEL.yaml...] [--link logit|cloglog] [--firth] [--robust] [-o OUT.yaml]\n"
    "  pdsim fit DATASET-DIR MODEL.yaml... [options]\n"
    "  pdsim fit DATASET-DIR|CONFIG.yaml MODEL.yaml --prior PRIOR.yaml|flat [--prior-scale K]\n"
    "            [--chains N] [--warmup N] [--draws N] [-s SEED] [-o OUT.yaml]\n"
    "  pdsim compare BASE.h5 SCENARIO.h5 [--csv OUT.csv] [-o OUT.h5] [-q] [--allow-model-change]\n"
    "                [--replace] [--year Y] [--subunits]\n"
    "  pdsim describe CONFIG.yaml [--model MODEL.yaml] [--reference TABLE.csv]\n"
    "  pdsim summary OUT.h5 [--csv DIR] [--bom] [--runs] [--replace] [-q]\n"
    "  pdsim report FILE.h5... -o DIR [--svg] [--pdf] [--year Y] [--pinyin] [--dpi N] [--replace]\n"
    "  pdsim study STUDY.yaml [-n RUNS] [-j JOBS] [-o DIR] [--replace] [-q]\n"
    "  pdsim backtest CONFIG.yaml... --cutoff YEAR|FROM..TO [--refit] [-n RUNS] [--csv OUT.csv]\n"
    "  pdsim sweep SWEEP.yaml [--task I] [--tasks N] [-o DIR] [-m MERGED.h5] [-j THREADS]\n"
    "              [--list | --merge | --submit [--logs DIR] [-- SBATCH_OPTIONS...]] [-q]\n"
    "  pdsim merge DIR|PART.h5... -o OUT.h5 [-q]\n"
    "  pdsim calibrate CALIBRATE.yaml [-o MODEL.yaml] [-d DIR] [-j THREADS] [--check]\n"
    "                  [--tasks N [--task I | --step]] [--simulate V1,V2,... [-s SEED]] [-q]\n"
    "  pdsim help [run|validate|fit|compare|describe|summary|report|backtest|sweep|merge|study|\n"
    "             calibrate|config|model|dataset]\n"
    "  pdsim --version\n"
    "\n"
    "exit status: 0 success, 1 runtime failure (I/O, interrupted), 2 bad usage or input\n"
    "(an output naming an input included), 4 busy: another pdsim is writing the output\n";

static const char help_run[] =
    "pdsim run CONFIG.yaml [options]\n"
    "  Simulate from the config's base year to its horizon and write an HDF5 file\n"
    "  (as OUT.h5.partial until complete, then renamed to OUT.h5), then print a\n"
    "  summary on stdout.\n"
    "  -n, --runs N       Monte Carlo runs (overrides 'runs'; at most 10^9)\n"
    "  -s, --seed S       random seed (overrides 'seed')\n"
    "  -o, --output FILE  output file (overrides 'output')\n"
    "  -j, --threads T    OpenMP threads (overrides 'threads'; 0 = all cores)\n"
    "  -q, --quiet        no progress and no summary\n"
    "  --replace          replace an existing OUT.h5 (without it, or 'replace: true' in\n"
    "                     the config, run refuses an existing output with exit 2)\n"
    "  --resume           continue OUT.h5.partial left by an interrupted run of the\n"
    "                     same config, dataset, models, seed and run count (refused\n"
    "                     with exit 2 otherwise); without a partial file, start anew\n"
    "  --no-backtest      skip the rolling-origin backtest written beside the forecast\n"
    "                     (the config's 'reliability:'), e.g. for a quick trial run\n"
    "  After the runs, the backtest of 'reliability:' (default 5 origins, 2,000 runs\n"
    "  each) is written into /reliability; the runs/s printed count the runs alone.\n"
    "  Results depend only on the seed and run count, never on the threads, and a\n"
    "  resumed run gives the same file as an uninterrupted one.\n"
    "  Every chunk of runs is committed to OUT.h5.partial (runs_done) as it is\n"
    "  written. SIGINT or SIGTERM stops at the end of the chunk of runs in\n"
    "  progress, keeps the runs done in OUT.h5.partial (marked complete = 0) and\n"
    "  exits 1; SIGKILL keeps the chunks committed before it. An earlier OUT.h5\n"
    "  is untouched until a run completes. A write failure (disk full, file-size\n"
    "  limit) exits 1 and removes the partial file of a new run; a failed\n"
    "  --resume keeps it, with its runs, for another --resume.\n"
    "  While it writes, run holds the lock OUT.h5.lock: a second run (or merge,\n"
    "  compare) writing the same OUT.h5 exits 4 at once and changes nothing. An\n"
    "  output naming the config, a model or a dataset file is refused (exit 2),\n"
    "  and so is a symbolic link at OUT.h5.partial (see docs/output-format.md).\n";

static const char help_validate[] =
    "pdsim validate CONFIG.yaml\n"
    "  Load the config, dataset and models, and report every problem found with\n"
    "  file:line. Exit 0 when all is well, 2 otherwise. Writes nothing. On success it\n"
    "  prints what was loaded and, with a scenario, its changes and the channels it\n"
    "  switches off, then every setting after extends, with canonical paths, as YAML.\n";

static const char help_describe[] =
    "pdsim describe CONFIG.yaml [--model MODEL.yaml] [--reference TABLE.csv]\n"
    "               [--first-year Y] [--last-year Y]\n"
    "  Descriptive statistics (mean, sd, min, max, VIF) of the outcome and of every\n"
    "  regressor of the model over the unit-years at risk (as pdsim fit builds them),\n"
    "  and the in-sample check: per year, observed adoptions against the sum of the\n"
    "  model's fitted hazards, with its own intercept and with the intercept shifted\n"
    "  so that the sums match (what 'intercept_recalibration: in-sample' applies).\n"
    "  --model MODEL.yaml     model to describe (default: the config's model)\n"
    "  --reference TABLE.csv  numbers to print beside, with differences: columns\n"
    "                         variable,mean,sd,min,max,vif; variable is 'adoption' or a\n"
    "                         term name; blank = not given\n"
    "  --first-year Y         first outcome year (default: panel start + lag)\n"
    "  --last-year Y          last outcome year (default: the config's base year)\n";

static const char help_fit[] =
    "pdsim fit CONFIG.yaml [MODEL.yaml...] [options]\n"
    "pdsim fit DATASET-DIR MODEL.yaml... [options]\n"
    "  Estimate discrete-time event-history models (one row per unit-year at risk,\n"
    "  years after adoption dropped) by maximum likelihood. Each MODEL.yaml gives the\n"
    "  terms (its coefficients are ignored); with a run config and no model, its model\n"
    "  is refitted on its dataset up to its base year. Several models print side by side,\n"
    "  each column headed by its own link. Full description: docs/fit.md.\n"
    "  --link logit|cloglog   link (default: each model file's)\n"
    "  --firth                Firth's penalized likelihood (small samples, separation)\n"
    "  --information observed|expected\n"
    "                         information for the steps and the model-based SEs\n"
    "                         (default observed; Firth always uses expected)\n"
    "  --robust               cluster-robust (sandwich) standard errors, by unit\n"
    "  --cluster VAR          cluster-robust SEs by unit, region, year or a panel variable\n"
    "  --vcov model|cluster|HC0|HC1  covariance of the estimates (default model)\n"
    "  --level L              confidence level of the intervals (default 0.95)\n"
    "  --profile              also profile-likelihood intervals (penalized with --firth)\n"
    "  --ame                  average marginal effects on the hazard, delta-method SEs\n"
    "  --lrtest               LR test of each model against the previous one (nested)\n"
    "  --tol T                convergence: the Newton step in standard errors <= T\n"
    "                         (default 1e-10)\n"
    "  --max-iter N           at most N iterations (default 100)\n"
    "  --accept-nonconvergence  exit 0 although a fit did not converge (still warned)\n"
    "  --first-year Y         first outcome year (default: panel start + lag, or the\n"
    "                         first observed adoption)\n"
    "  --last-year Y          last outcome year (default: the config's base year, else\n"
    "                         the panel's last year, else the last observed adoption)\n"
    "  -o OUT.yaml | -o DIR   the fitted model(s), with covariance, for pdsim run; with\n"
    "                         several models (or a folder) DIR/NAME.yaml per model\n"
    "  --tidy F.csv           one row per estimate, R broom's names (term, estimate,\n"
    "                         std.error, statistic, p.value, conf.low, conf.high, ...)\n"
    "  --glance F.csv         one row per model (logLik, AIC, BIC, nobs, deviance, ...,\n"
    "                         iterations, converged)\n"
    "  --json F.json          both, with the covariance matrices and LR tests\n"
    "  --export-table F.csv   the unit-year table of one model (unit, year, adopted, terms)\n"
    "  --export-hazards F.csv fitted hazard of every unit-year, every model\n"
    "Bayesian estimation (one model; docs/fit.md, \"Bayesian estimation\"):\n"
    "  --prior PRIOR.yaml|flat  Gaussian prior centred on PRIOR.yaml's estimates with\n"
    "                         sd = its SE x K (its covariance x K^2 where it has one);\n"
    "                         terms matched by name, else by the same dynamic/panel\n"
    "                         variable; flat: improper flat prior (mode = MLE). Prints\n"
    "                         the posterior mode with Laplace SEs, then HMC draws:\n"
    "                         mean, sd, 5/50/95%, rank-normalised split R-hat, bulk ESS\n"
    "  --prior-scale K        prior sd = published SE x K (default 1)\n"
    "  --prior-default-sd S   prior N(0, S^2) of coefficients the prior does not name\n"
    "                         (default 10)\n"
    "  --chains N             chains (default 4)\n"
    "  --warmup N             warmup iterations per chain (default 2000)\n"
    "  --draws N              kept draws per chain (default 2000)\n"
    "  -s, --seed S           seed of the chains (default 1)\n"
    "  With -o OUT.yaml also OUT.draws.csv (chain, draw, (Intercept), terms) and a\n"
    "  posterior: block in OUT.yaml, for `uncertainty: posterior` in run configs.\n"
    "  Warns when an R-hat > 1.01 or an ESS < 400; with an R-hat > 1.1 nothing is\n"
    "  written and the exit status is 3 (--accept-nonconvergence: written, exit 0).\n"
    "  Exit status: 0 done; 1 an output could not be written; 2 bad usage or input,\n"
    "  separation, a singular design; 3 a fit did not converge (results printed and\n"
    "  written, marked as not converged), or the chains did not (nothing written).\n";

static const char help_compare[] =
    "pdsim compare BASE.h5 SCENARIO.h5 [options]\n"
    "  Paired differences between a scenario and its baseline, run with the same seed\n"
    "  (run r of both used the same random numbers). Refuses files whose seed, run count,\n"
    "  years, dataset (by the content hash of its files), model, uncertainty setting or\n"
    "  units differ (exit 2).\n"
    "  Reports, with 95% intervals: national adopters per year, each unit's P(adopted by\n"
    "  year) and mean adoption year, unit-years gained; and the variance reduction that\n"
    "  pairing achieved against independent seeds. When both files store the sub-units'\n"
    "  years (/runs/subunit_adoption_year) for the same sub-units, the same for each\n"
    "  sub-unit, and the share of sub-units adopted with its paired difference and SE.\n"
    "  Last, the settings in which the two stored configs differ, parsed as YAML, with\n"
    "  paths like projection.default.rule and models[1].weight.\n"
    "  --csv OUT.csv            tidy CSV of every quantity; the sub-units' in\n"
    "                           OUT-subunits.csv beside it\n"
    "  -o OUT.h5                the same in the HDF5 groups /compare and /subunits\n"
    "  --subunits               exit 2 when the sub-units cannot be compared (without it:\n"
    "                           a note on stderr, and the units alone)\n"
    "  --allow-model-change     allow different model files (a coefficient scenario)\n"
    "  --replace                replace existing output files (refused otherwise, exit 2)\n"
    "  --year Y                 year of the unit table (default: where the scenario moves\n"
    "                           P(adopted) most); stored with -o for pdsim report\n"
    "  -q                       no table on stdout\n"
    "  Each output is locked while written (OUT.lock; busy: exit 4) and may not be one\n"
    "  of the compared files (exit 2).\n";

static const char help_summary[] =
    "pdsim summary OUT.h5 [options]\n"
    "  Print the tables pdsim run printed, from a finished run file: each unit not adopted\n"
    "  by the base year with its name, median adoption year, 10-90% range and P(adopted by\n"
    "  each of the run's report_years), then the national curve. Refuses a missing,\n"
    "  damaged, incomplete or older file (exit 2).\n"
    "  --csv DIR   also write tidy CSV files (UTF-8) into DIR, created if needed:\n"
    "              forecast.csv       code,name,name_en,region,status,observed_adoption_year,\n"
    "                                 median_year,q10_year,q90_year,p_adopted_by_YEAR...\n"
    "              provinces.csv      code,name,name_en,region,observed_adoption_year\n"
    "              province_year.csv  code,name,year,p_adopted\n"
    "              national_year.csv  year,mean,q05,q10,q25,q50,q75,q90,q95\n"
    "              national_count.csv year,adopted,runs\n"
    "              runs.csv           run,code,adoption_year (only with --runs)\n"
    "              numbers read back exactly as the HDF5 values (see docs/report.md);\n"
    "              a year is an empty cell (NA) when not adopted (by last_year)\n"
    "  --replace   replace existing CSV files in DIR (refused otherwise, exit 2)\n"
    "  --bom       start each CSV with a UTF-8 byte-order mark (for Excel)\n"
    "  --runs      also write runs.csv, one row per run and unit (large)\n"
    "  -q          print nothing on stdout\n"
    "  A merged sweep file (pdsim sweep or merge) gets its design and, for Sobol designs,\n"
    "  the indices; with --csv DIR:\n"
    "              points.csv         point,seed,PARAMETER...,p_all_adopted,\n"
    "                                 national_adopted_YEAR...,median_year_CODE...\n"
    "              point_year.csv     point,year,national_adopted_mean,q05,...,q95\n"
    "              sobol_indices.csv  output,parameter,first_order,first_order_low,\n"
    "                                 first_order_high,total,total_low,total_high (Sobol)\n"
    "  (see docs/sweep.md); a part file is refused: merge the parts first.\n"
    "  A CSV file may not replace the result file read (exit 2); text cells starting\n"
    "  with = + - @ are written as '=... so that spreadsheets do not evaluate them.\n";

static const char help_report[] =
    "pdsim report FILE.h5... -o DIR [options]\n"
    "  Plots (PNG) and one index.html showing them with the summary tables, from a result\n"
    "  file of pdsim run, an output of pdsim compare -o, and/or a merged sweep file of pdsim\n"
    "  sweep or merge (at most one of each, recognised by their contents; a sweep's part\n"
    "  files are refused: merge them first). A run file gives the S-curve, the tile maps\n"
    "  and the adoption-year intervals, and its CSV summaries in DIR/csv; a comparison the\n"
    "  baseline and scenario fans overlaid (from the run files it names), the paired\n"
    "  national difference, the per-unit shift in mean adoption year and in P(adopted by\n"
    "  the year), as intervals and as a map; a sweep the response to each parameter and,\n"
    "  for Sobol designs, the Sobol indices.\n"
    "  Needs Python 3 with h5py and matplotlib: $PDSIM_PYTHON, else /usr/bin/python3, else\n"
    "  python3 (exit 1 with a message when none has them; scripts/install-deps.sh installs\n"
    "  them and a CJK font). Bad or incomplete input files: exit 2.\n"
    "  -o, --output DIR   output folder, created if needed; one holding a report is\n"
    "                     refused (exit 2) unless --replace\n"
    "  --svg              also write each plot as SVG (text as outlines: no fonts needed)\n"
    "  --pdf              also write each plot as PDF (fonts embedded), for papers\n"
    "  --year Y           year of the P(adopted by Y) map, the shifts and the sweep response\n"
    "                     (default: the map at the first year in which P(adopted) differs\n"
    "                     most across the units not adopted by the base year; the shifts at\n"
    "                     the year pdsim compare chose; the sweep at the map's year)\n"
    "  --pinyin           label units with their romanised names (units file, name_en)\n"
    "  --dataset DIR      the run's dataset folder (default: the path the run recorded,\n"
    "                     from here, else from the folders above the run file); gives the\n"
    "                     first central document, the romanised names and the tile layout\n"
    "  --tiles FILE       tile-map layout CSV code,row,col[,label] (default: DATASET/tiles.csv;\n"
    "                     none: a grid in file order)\n"
    "  --dpi N            pixels per inch of the PNGs, 20-600 (default 100)\n"
    "  -q                 print nothing on stdout\n";
static const char help_backtest[] =
    "pdsim backtest CONFIG.yaml [CONFIG2.yaml ...] --cutoff YEAR|FROM..TO [options]\n"
    "  Forecast the observed past: forget everything after the cutoff (adoptions,\n"
    "  sub-unit counts, documents, panel values), simulate cutoff+1 .. the config's\n"
    "  base_year (the last observed year) and score the forecast against what\n"
    "  happened, next to three baselines scored the same way: a constant hazard (the\n"
    "  historical rate), a logistic growth curve of the cumulative share adopted, and\n"
    "  the model with its dynamic channels (documents, neighbours, sub-units) off.\n"
    "  Scores (lower is better): Brier and log score per unit-year at risk, ranked\n"
    "  probability score of each unit's adoption year (right-censored units scored on\n"
    "  the observed window), a calibration table, units adopted by year against each\n"
    "  forecaster's 10-90% band, paired per-unit differences and a verdict: better or\n"
    "  worse only when a difference exceeds 2 standard errors, else no clear\n"
    "  difference.\n"
    "  Several configs (same dataset and base_year) are scored on the same origins\n"
    "  with the same seed and runs (common random numbers). A closing comparison\n"
    "  pools all origins: scores of every forecaster, paired differences of each\n"
    "  config against the first and against each baseline with standard errors\n"
    "  clustered by unit, and stacking weights (Yao et al. 2018) of the configs and\n"
    "  baselines from the held-out unit-years' log scores.\n"
    "  --cutoff Y | A..B   last year of history; A..B scores each origin and summarises\n"
    "  --refit             refit each model on the history up to each cutoff (as pdsim fit)\n"
    "  --firth             with --refit: Firth's penalized likelihood\n"
    "  -n, --runs N        Monte Carlo runs (overrides the first config's 'runs')\n"
    "  -s, --seed S        random seed (overrides the first config's 'seed')\n"
    "  -j, --threads T     OpenMP threads (0 = all cores)\n"
    "  --csv OUT.csv       scores per config, origin and forecaster as CSV\n"
    "  --hazards-csv F.csv every forecast hazard scored, per config, origin,\n"
    "                      forecaster and unit-year, so the scores can be recomputed\n"
    "  A cutoff outside the data, or one that leaves no adoption to fit on, is an\n"
    "  error (exit 2). See docs/backtest.md.\n";

static const char help_sweep[] =
    "pdsim sweep SWEEP.yaml [options]\n"
    "  Run a parameter sweep: the design points of SWEEP.yaml (full grid, Latin\n"
    "  hypercube or Sobol/Saltelli), runs_per_point runs at each, summaries per point.\n"
    "  Each task writes DIR/part-IIII-of-NNNN.h5; a run of all points (one task, or\n"
    "  all MPI ranks) then merges them into the sweep file. A rerun skips finished\n"
    "  parts and resumes an interrupted one after its last finished point. A part\n"
    "  being written by another task is locked (part-....h5.lock): that task exits 4\n"
    "  and the part is left alone. The sweep file must not be the merged file (exit 2).\n"
    "  Point p's runs use the seed mixed from (seed, p) (random_numbers: per_point)\n"
    "  or the seed itself (common): never the split into tasks or ranks.\n"
    "  The split into tasks is --tasks N, else the sweep file's tasks, else (MPI build\n"
    "  under mpirun) the number of ranks, else 1. Without --task every task runs here\n"
    "  (MPI: rank r runs tasks r, r + ranks, ...) and the parts are merged.\n"
    "  --task I            run task I (0..N-1) only; in a Slurm job array\n"
    "                      SLURM_ARRAY_TASK_ID is the task (the array counts from 0; its\n"
    "                      size is not used, so a task resubmitted alone stays itself)\n"
    "  --tasks N           the number of tasks (overrides 'tasks')\n"
    "  --merge             merge the finished parts into the sweep file and exit\n"
    "  --submit            submit a Slurm job array of the tasks (scripts/slurm/\n"
    "                      sweep-array.sbatch) and a merge job after it (sweep-merge.sbatch),\n"
    "                      print their job ids and how to watch them and rerun a task;\n"
    "                      options after -- go to both sbatch calls\n"
    "  --logs DIR          with --submit: folder of the job logs (default logs)\n"
    "  -o, --output DIR    folder of the part files (overrides 'output')\n"
    "  -m, --merged FILE   sweep file written when all points ran here (overrides 'merged')\n"
    "  -j, --threads T     OpenMP threads per task (overrides 'threads'): with at least as\n"
    "                      many points as threads each thread runs whole points\n"
    "  --list              print the design (point, seed, values) and exit\n"
    "  -q, --quiet         no progress\n"
    "  Parameters: model.TERM, subunit_model.TERM (TERM = intercept or a term name),\n"
    "  projection.VARIABLE.years|min|max, projection.default.years|min|max,\n"
    "  scenario.central_documents[I].count|weight.\n"
    "sweep file keys (paths are relative to the sweep file):\n";

static const char help_calibrate[] =
    "pdsim calibrate CALIBRATE.yaml [options]\n"
    "  Calibrate parameters (the names of sweep parameters: model.TERM,\n"
    "  subunit_model.TERM, ...) by approximate Bayesian computation (ABC-SMC with an\n"
    "  adaptive tolerance): simulated histories of the run config (the hindcast) are\n"
    "  compared with the observed targets, and the weighted particles of the last\n"
    "  generation are a sample from the approximate posterior (docs/calibrate.md).\n"
    "  Each generation is saved in DIR (gen-TTTT.csv, renamed into place when\n"
    "  complete); a rerun continues after the last finished one, with the same\n"
    "  result as an uninterrupted run, for any number of threads. At the end DIR\n"
    "  holds posterior.csv (particle, parameters, weight) and generations.csv.\n"
    "  -o, --model FILE     also write the calibrated model: posterior mean as coef,\n"
    "                       weighted sd as se, weighted covariance (when every\n"
    "                       coefficient of the model is calibrated), and the sample\n"
    "                       beside it as FILE-stem.posterior.csv\n"
    "  -d, --output DIR     folder of the generation files (overrides 'output')\n"
    "  -j, --threads T      OpenMP threads (overrides 'threads'; 0 = all cores)\n"
    "  --tasks N            split each generation into N tasks (proposal k is task\n"
    "                       k mod N's); alone: every task here in turn, the same result\n"
    "  --task I             make task I's share of the current generation's plan into\n"
    "                       its part file, resuming it (in a Slurm array:\n"
    "                       SLURM_ARRAY_TASK_ID; N from --tasks, never from the array)\n"
    "  --step               combine the parts: save the generation when they hold\n"
    "                       enough, plan the next round; prints 'continue ...' or\n"
    "                       'finished' and then the results (scripts/slurm/calibrate-*)\n"
    "  --check              validate the file, print parameters and targets, exit\n"
    "  --simulate V1,V2,... print the statistics and distance of one history at these\n"
    "                       parameter values (in the file's order), seed -s SEED\n"
    "  -q, --quiet          no progress and no summary\n"
    "  Statistics (targets): units_adopted, subunits_adopted (year: by the end of it);\n"
    "  subunit_share_mean, subunit_share_sd (from, to: the % of a unit's sub-units\n"
    "  adopted by the end of t-1 over the unit-years t = from..to of units not adopted\n"
    "  before t; sd with divisor n-1); subunit_share_ratio (year: share adopted among\n"
    "  sub-units of adopted units / among the others). SIGINT or SIGTERM stops after\n"
    "  the current batch and exits 1, keeping the finished generations.\n"
    "calibration file keys (paths are relative to the file):\n";

static const char help_merge[] =
    "pdsim merge DIR|PART.h5... -o OUT.h5 [-q]\n"
    "  Merge the part files of a sweep (all part-*.h5 of each folder given) into one\n"
    "  sweep file, with Sobol indices for Sobol designs. Refuses (exit 2) parts of\n"
    "  different sweeps (design hash) or splits, a missing or duplicated task, and\n"
    "  incomplete or damaged parts, naming each, and an OUT.h5 that is one of the\n"
    "  parts or in a folder merged. OUT.h5 is locked while written (OUT.h5.lock): a\n"
    "  second writer of it exits 4.\n";

static const char help_model[] =
    "model file (YAML):\n"
    "  name, description, source    strings\n"
    "  link                         logit | cloglog (default logit)\n"
    "  lag                          years between panel covariates and outcome (default 1)\n"
    "  intercept                    {coef: X, se: Y}\n"
    "  terms                        list of {name, dynamic: V | variable: COL | unit: COL |\n"
    "                               interact: [..], transform: none|log|log1p, coef, se,\n"
    "                               and the parameters below}\n"
    "  covariance                   optional (1+terms) x (1+terms) matrix, intercept first\n"
    "  coef, se and intercept are optional for pdsim fit (a pure specification);\n"
    "  run, sweep and backtest refuse a model without them (exit 2).\n"
    "  variable: COL                a column of panel.csv at year t - lag\n"
    "  unit: COL                    a column of the units file, constant over the years\n"
    "    factor: true, reference: R one dummy NAME[LEVEL] per level but R (fit expands it)\n"
    "    level: L                   the dummy of one level (what fit -o writes)\n"
    "    lag: K                     this term's own lag (panel variables, document forms)\n"
    "  interact: [A, B, ..]         the product of earlier terms A, B (by name) or inline\n"
    "                               terms {variable|dynamic|unit: ..}; at most one of\n"
    "                               neighbours_adopted_pct, subunits_adopted_pct\n"
    "  dynamic variables: central_documents, neighbours_adopted_pct, subunits_adopted_pct,\n"
    "  year (outcome year - 2000, a time trend; power: P for its P-th power, interval:\n"
    "  [Y1, Y2] for the dummy of the calendar years Y1..Y2, spline: {knots: [years],\n"
    "  basis: J}) (unit models); central_documents,\n"
    "  parent_adopted, siblings_adopted_pct (sub-unit models). Document forms (unit and\n"
    "  sub-unit models; all switched off with the central_documents channel):\n"
    "    document_stock, half_life: H   sum of weight x 0.5^((t-lag-year)/H), year <= t-lag\n"
    "    recent_documents, window: K    weighted documents with t-lag-K < year <= t-lag\n"
    "    years_since_first_document     t-lag - first document year (0 before it);\n"
    "      interval: [LO, HI]           1 when LO <= years <= HI after the first document\n"
    "      spline: {knots: [..], basis: J}  column J of the natural cubic spline basis\n"
    "  transform: log1p = log(1 + x), on panel variables, unit attributes and\n"
    "  central_documents, document_stock, recent_documents, years_since_first_document.\n";

static const char help_study[] =
    "pdsim study STUDY.yaml [options]\n"
    "  Run the baseline and every scenario of the study file (several at once when the\n"
    "  cores allow), compare each scenario with the baseline run by run, write each run's\n"
    "  CSV files, tidy CSV files across the study with a scenario column, and each\n"
    "  comparison's report, into the study's folder (see docs/study.md):\n"
    "    runs/NAME.h5, runs/NAME.txt    each run and its forecast table\n"
    "    compare/NAME.{h5,csv,txt}      each scenario against the baseline\n"
    "    csv/NAME/*.csv, csv/study_forecast.csv, csv/study_national.csv\n"
    "    report/NAME/index.html, index.html, logs/\n"
    "  A step whose inputs (every setting, config, model and dataset file, and the runs\n"
    "  it reads) are unchanged since it last succeeded is skipped; a run stopped part-way\n"
    "  is resumed. A step whose inputs changed is redone and says so.\n"
    "  -n, --runs N     runs of every config (overrides the study file and the configs)\n"
    "  -j, --jobs J     steps at the same time (0 = one per core)\n"
    "  -o, --output DIR the study's folder (overrides 'output')\n"
    "  --replace        allow replacing a run with one of fewer runs (refused otherwise,\n"
    "                   so that a quick trial does not replace a real result; use -o)\n"
    "  -q               print nothing but errors\n"
    "study file keys:\n";

static const char help_dataset[] =
    "dataset folder (CSV with a header row; extra columns are ignored):\n"
    "  units.csv           code,name,region,adoption_year (blank = not adopted)\n"
    "  contiguity.csv      unit_a,unit_b[,type land|sea]           optional\n"
    "  subunits.csv        code,name,parent,adoption_year           optional\n"
    "  subunit_counts.csv  unit,year,adopted (cumulative count)     optional\n"
    "  documents.csv       year,count[,weight]                      optional\n"
    "  panel.csv           unit,year,VAR... (VAR_provenance columns are text)  optional\n"
    "  tiles.csv           code,row,col (tile-map position, used by pdsim report)  optional\n"
    "  dataset.yaml        optional: other file names for these roles (keys below)\n"
    "With a panel, every unit needs rows for consecutive years, and no observed\n"
    "adoption may fall before its first panel year or after the panel's last.\n";

int pds_cmd_help(int argc, char **argv)
{
    const char *topic = argc > 0 ? argv[0] : NULL;
    if (!topic) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(topic, "run") == 0)
        fputs(help_run, stdout);
    else if (strcmp(topic, "validate") == 0)
        fputs(help_validate, stdout);
    else if (strcmp(topic, "fit") == 0)
        fputs(help_fit, stdout);
    else if (strcmp(topic, "describe") == 0)
        fputs(help_describe, stdout);
    else if (strcmp(topic, "compare") == 0)
        fputs(help_compare, stdout);
    else if (strcmp(topic, "summary") == 0)
        fputs(help_summary, stdout);
    else if (strcmp(topic, "report") == 0)
        fputs(help_report, stdout);
    else if (strcmp(topic, "backtest") == 0)
        fputs(help_backtest, stdout);
    else if (strcmp(topic, "sweep") == 0) {
        fputs(help_sweep, stdout);
        pds_yaml_describe(pds_sweep_keys, pds_n_sweep_keys, 0, put_line, stdout);
    } else if (strcmp(topic, "sweep-md") == 0) {
        pds_yaml_describe(pds_sweep_keys, pds_n_sweep_keys, 1, put_line, stdout);
    } else if (strcmp(topic, "calibrate") == 0) {
        fputs(help_calibrate, stdout);
        pds_yaml_describe(pds_calib_keys, pds_n_calib_keys, 0, put_line, stdout);
    } else if (strcmp(topic, "calibrate-md") == 0) {
        pds_yaml_describe(pds_calib_keys, pds_n_calib_keys, 1, put_line, stdout);
    } else if (strcmp(topic, "merge") == 0)
        fputs(help_merge, stdout);
    else if (strcmp(topic, "study") == 0) {
        fputs(help_study, stdout);
        pds_yaml_describe(pds_study_keys, pds_n_study_keys, 0, put_line, stdout);
    } else if (strcmp(topic, "study-md") == 0)
        pds_yaml_describe(pds_study_keys, pds_n_study_keys, 1, put_line, stdout);
    else if (strcmp(topic, "model") == 0)
        fputs(help_model, stdout);
    else if (strcmp(topic, "dataset") == 0) {
        fputs(help_dataset, stdout);
        size_t n;
        const pds_key *keys = pds_dataset_manifest_keys(&n);
        puts("\ndataset.yaml keys (file names inside the folder):");
        pds_yaml_describe(keys, n, 0, put_line, stdout);
    }
    else if (strcmp(topic, "config") == 0 || strcmp(topic, "config-md") == 0) {
        int md = strcmp(topic, "config-md") == 0;
        if (!md)
            puts("run config keys (paths are relative to the config file):");
        pds_yaml_describe(pds_run_config_keys, pds_n_run_config_keys, md, put_line, stdout);
        if (!md)
            puts("\nprojection rule keys:");
        else
            puts("\nProjection rules (`projection.default` and `projection.variables.NAME`):\n");
        pds_yaml_describe(pds_projection_keys, pds_n_projection_keys, md, put_line, stdout);
    } else {
        fprintf(stderr,
                "pdsim: no help on '%s'; topics: run, validate, fit, compare, describe, summary, "
                "report, backtest, sweep, merge, study, calibrate, config, model, dataset\n",
                topic);
        return 2;
    }
    return 0;
}
