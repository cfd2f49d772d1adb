/* Definitions of the dynamic regressors, shared by the simulation engine and
 * by the person-period table used for fitting, so that the two cannot drift
 * apart. State is always the state at the end of the previous year. */
#ifndef PDS_DYNAMIC_H
#define PDS_DYNAMIC_H

#include <stddef.h>

#include "model.h"
#include "world.h"

/* Percentage (0-100) of `total` that `adopted` represents; 0 when total is 0
 * (a unit without neighbours or without sub-units). Neighbours count by
 * their weight (1 each with plain contiguity). */
static inline double pds_dynamic_pct(double adopted, double total)
{
    return total > 0 ? 100.0 * adopted / total : 0.0;
}

/* Weighted central documents that count for an outcome in year t. */
static inline double pds_dynamic_documents(const pds_world *w, int t, int lag)
{
    return pds_world_documents_through(w, t - lag);
}

/* The time-trend regressor for an outcome in year t. */
static inline double pds_dynamic_year(int t)
{
    return (double)(t - PDS_YEAR_ORIGIN);
}

#endif
