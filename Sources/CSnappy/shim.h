// Debian's snappy (libsnappy-dev): the compression of parquet files written by pyarrow/datasets.
#ifndef SVCO_SNAPPY_SHIM_H
#define SVCO_SNAPPY_SHIM_H
#include <snappy-c.h>
#endif
