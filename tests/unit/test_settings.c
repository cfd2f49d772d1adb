#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "io/settings_diff.h"

/* The differences of two YAML texts, one "path: base -> scen" line each,
 * joined by newlines into out ("" when none). */
static void diff_lines(const char *base, const char *scen, char *out, size_t size)
{
    pds_diag d;
    pds_diag_init(&d);
    pds_settings b, s;
    assert_int_equal(pds_settings_flatten("base.yaml", base, &b, &d), 0);
    assert_int_equal(pds_settings_flatten("scen.yaml", scen, &s, &d), 0);
    pds_settings_diff x;
    assert_int_equal(pds_settings_compare(&b, &s, &x), 0);
    out[0] = '\0';
    for (size_t i = 0; i < x.n; i++) {
        char line[512];
        pds_setting_diff_line(&x.v[i], 60, line, sizeof line);
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "\n" : "", line);
    }
    pds_settings_diff_free(&x);
    pds_settings_free(&b);
    pds_settings_free(&s);
    pds_diag_free(&d);
}

#define EXPECT(base, scen, want)                                                                   \
    do {                                                                                           \
        char got_[4096];                                                                           \
        diff_lines(base, scen, got_, sizeof got_);                                                 \
        assert_string_equal(got_, want);                                                           \
    } while (0)

static const char models_block[] = "seed: 1\n"
                                   "models:\n"
                                   "  - model: a.yaml\n"
                                   "    weight: 0.7\n"
                                   "  - model: b.yaml\n"
                                   "    weight: 0.3\n"
                                   "horizon: 2035\n";

static void same_models_block_and_flow(void **state)
{
    (void)state;
    EXPECT(models_block,
           "seed: 1\n"
           "models: [{model: a.yaml, weight: 0.70}, {weight: 0.3, model: \"b.yaml\"}]\n"
           "horizon: 2035\n",
           "");
    EXPECT("models:\n  - {model: a.yaml, weight: 0.7}\n",
           "models: [{model: a.yaml, weight: 7e-1}]\n", "");
}

static void changed_weight(void **state)
{
    (void)state;
    EXPECT(models_block,
           "seed: 1\n"
           "models:\n"
           "  - {model: a.yaml, weight: 0.7}\n"
           "  - {model: b.yaml, weight: 0.4}\n"
           "horizon: 2035\n",
           "models[1].weight: 0.3 -> 0.4");
}

static void key_in_one_only(void **state)
{
    (void)state;
    EXPECT("seed: 1\nhorizon: 2035\n", "seed: 1\nrefit: true\nhorizon: 2035\n",
           "refit: (none) -> true");
    EXPECT("seed: 1\nscenario: {name: x, channels: {a: true}}\n", "seed: 1\n",
           "scenario.name: x -> (none)\nscenario.channels.a: true -> (none)");
}

static void nested_mapping_change(void **state)
{
    (void)state;
    EXPECT("projection:\n  default: {rule: hold}\n  variables:\n    urb: {rule: trend, years: 5}\n",
           "projection: {default: {rule: hold}, variables: {urb: {years: 3, rule: trend}}}\n",
           "projection.variables.urb.years: 5 -> 3");
}

static void list_of_another_length(void **state)
{
    (void)state;
    EXPECT(models_block,
           "seed: 1\nmodels: [{model: a.yaml, weight: 0.7}, {model: b.yaml, weight: 0.2},\n"
           "  {model: c.yaml, weight: 0.1}]\nhorizon: 2035\n",
           "models[1].weight: 0.3 -> 0.2\n"
           "models[2].model: (none) -> c.yaml\n"
           "models[2].weight: (none) -> 0.1");
    EXPECT("years: [2025, 2030, 2035]\n", "years: [2025, 2030]\n", "years[2]: 2035 -> (none)");
    EXPECT("years: [2025]\n", "years: []\n", "years[0]: 2025 -> (none)");
    EXPECT("a: {}\n", "b: []\n", "a: (empty mapping) -> (none)\nb: (none) -> (empty list)");
}

static void type_differs(void **state)
{
    (void)state;
    /* the items of the other side are not listed one by one */
    EXPECT("a: 1\nb: x\n", "a: {x: 1, y: 2}\nb: x\n", "a: 1 -> (mapping)");
    EXPECT("a: [1, 2]\n", "a: {x: 1}\n", "a: (list) -> (mapping)");
    EXPECT("a: {x: [1]}\n", "a: {x: 1}\n", "a.x: (list) -> 1");
}

static void numbers_and_text(void **state)
{
    (void)state;
    /* plain numbers by value, quoted scalars by text */
    EXPECT("a: 0.50\nb: 20231231\nc: +007\nd: \"0.50\"\ne: 1.0\n",
           "a: 0.5\nb: 20231231.0\nc: 7\nd: \"0.5\"\ne: 1\n", "d: 0.50 -> 0.5");
    /* integers beyond the digits of a double are compared exactly */
    EXPECT("seed: 18446744073709551615\n", "seed: 18446744073709551614\n",
           "seed: 18446744073709551615 -> 18446744073709551614");
    /* numbers print in the shortest form that reads back as the same double */
    EXPECT("w: 0.14799999999999999\n", "w: 0.20000000000000001\n", "w: 0.148 -> 0.2");
    EXPECT("on: true\n", "on: yes\n", "on: true -> yes");
    /* separators inside keys are quoted, so paths stay apart */
    EXPECT("\"a.b\": 1\na: {b: 1}\n", "\"a.b\": 2\na: {b: 1}\n", "\"a.b\": 1 -> 2");
}

static void long_values_shortened(void **state)
{
    (void)state;
    char lng[200], want[400];
    memset(lng, 'x', 100);
    lng[100] = '\0';
    char base[256], scen[256];
    snprintf(base, sizeof base, "p: %s\n", lng);
    snprintf(scen, sizeof scen, "p: short\n");
    /* 57 bytes and "..." */
    snprintf(want, sizeof want, "p: %.57s... -> short", lng);
    EXPECT(base, scen, want);
    /* not inside a character: each 中 is three bytes, 19 of them fill 57 */
    char cjk[200] = "", wcjk[200] = "";
    for (int i = 0; i < 30; i++)
        strcat(cjk, "中");
    for (int i = 0; i < 19; i++)
        strcat(wcjk, "中");
    snprintf(base, sizeof base, "p: a%s\n", cjk);
    snprintf(want, sizeof want, "p: a%.54s... -> short", wcjk);
    EXPECT(base, scen, want);
    /* a line break prints as a space */
    EXPECT("p: \"a\\nb\"\n", "p: c\n", "p: a b -> c");
}

static void order_base_then_scenario(void **state)
{
    (void)state;
    EXPECT("z: 1\na: 1\nm: 1\n", "n: 2\nm: 2\nb: 2\nz: 2\n",
           "z: 1 -> 2\na: 1 -> (none)\nm: 1 -> 2\nn: (none) -> 2\nb: (none) -> 2");
}

static void unreadable_text(void **state)
{
    (void)state;
    const char *bad[] = {"models: [{model: a.yaml\n", "", "just a scalar\n", "- 1\n- 2\n",
                         "a: 1\n---\nb: 2\n",
                         /* an alias that contains itself */
                         "a: &x [1, *x]\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        pds_diag d;
        pds_diag_init(&d);
        pds_settings s;
        assert_int_equal(pds_settings_flatten("stored.yaml", bad[i], &s, &d), -1);
        assert_true(d.n > 0);
        assert_int_equal(s.n, 0);
        pds_settings_free(&s);
        pds_diag_free(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_models_block_and_flow),
        cmocka_unit_test(changed_weight),
        cmocka_unit_test(key_in_one_only),
        cmocka_unit_test(nested_mapping_change),
        cmocka_unit_test(list_of_another_length),
        cmocka_unit_test(type_differs),
        cmocka_unit_test(numbers_and_text),
        cmocka_unit_test(long_values_shortened),
        cmocka_unit_test(order_base_then_scenario),
        cmocka_unit_test(unreadable_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
