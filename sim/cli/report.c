#include <stdio.h>
#include <string.h>

#include "../io/h5out.h"
#include "cli.h"

/* Width of a UTF-8 string in terminal columns: CJK characters take two. */
static int display_width(const char *s)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) == 0x80)
            continue;
        w += *p >= 0xE0 ? 2 : 1;
    }
    return w;
}

static void print_padded(const char *s, int width)
{
    int w = display_width(s);
    fputs(s, stdout);
    for (; w < width; w++)
        putchar(' ');
}

static void year_text(int y, char *buf, size_t n, int last)
{
    if (y == 0)
        snprintf(buf, n, ">%d", last);
    else
        snprintf(buf, n, "%d", y);
}

void pds_cli_print_summary(const pds_setup *s, const pds_summary *sum)
{
    const pds_world *w = s->world;
    const pds_run_config *c = s->cfg;
    int last = (int)c->horizon;
    size_t Y = sum->n_years;
    size_t n_obs = 0;
    for (size_t u = 0; u < w->n_units; u++)
        n_obs += w->units[u].adoption_year != 0 && w->units[u].adoption_year <= c->base_year;

    printf("pdsim forecast: model %s, %llu runs, seed %llu, simulating %d..%d\n",
           s->unit_model->name, (unsigned long long)sum->n_runs, (unsigned long long)c->seed,
           sum->first_year, last);
    if (c->intercept_recalibration)
        printf("intercept recalibrated in-sample: %+.4f added to the model's intercept\n",
               s->intercept_shift);
    printf("%zu of %zu units adopted by %ld (observed)\n\n", n_obs, w->n_units, c->base_year);

    int name_w = 4;
    for (size_t u = 0; u < w->n_units; u++) {
        int dw = display_width(w->units[u].name);
        if (dw > name_w)
            name_w = dw;
    }
    printf("Units not adopted by %ld:\n", c->base_year);
    print_padded("code", 8);
    print_padded("name", name_w + 2);
    printf("%-7s %-13s", "median", "10-90%");
    for (size_t i = 0; i < c->n_report_years; i++)
        printf("  P(%ld)", c->report_years[i]);
    putchar('\n');
    for (size_t u = 0; u < w->n_units; u++) {
        int oy = w->units[u].adoption_year;
        if (oy != 0 && oy <= c->base_year)
            continue;
        char med[16], lo[16], hi[16], iv[40];
        year_text(pds_summary_unit_year_quantile(sum, u, 0.5), med, sizeof med, last);
        year_text(pds_summary_unit_year_quantile(sum, u, 0.1), lo, sizeof lo, last);
        year_text(pds_summary_unit_year_quantile(sum, u, 0.9), hi, sizeof hi, last);
        snprintf(iv, sizeof iv, "%s-%s", lo, hi);
        print_padded(w->units[u].code, 8);
        print_padded(w->units[u].name, name_w + 2);
        printf("%-7s %-13s", med, iv);
        for (size_t i = 0; i < c->n_report_years; i++) {
            size_t k = (size_t)(c->report_years[i] - sum->first_year);
            printf("  %*.3f", (int)strlen("P(2025)") - 2, pds_summary_p_adopted(sum, u, k));
        }
        putchar('\n');
    }
    printf("\nNational curve (units adopted by the end of each year):\n");
    printf("%-6s %8s %6s %9s %9s\n", "year", "mean", "median", "25-75%", "5-95%");
    for (size_t k = 0; k < Y; k++) {
        char a[24], b[24];
        snprintf(a, sizeof a, "%d-%d", pds_summary_national_quantile(sum, k, 0.25),
                 pds_summary_national_quantile(sum, k, 0.75));
        snprintf(b, sizeof b, "%d-%d", pds_summary_national_quantile(sum, k, 0.05),
                 pds_summary_national_quantile(sum, k, 0.95));
        printf("%-6d %8.2f %6d %9s %9s\n", sum->first_year + (int)k, pds_summary_national_mean(sum, k),
               pds_summary_national_quantile(sum, k, 0.5), a, b);
    }
}
