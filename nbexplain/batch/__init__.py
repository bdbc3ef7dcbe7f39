"""A whole book of applicants: batch reasons on a cluster (Dask), or partition by partition.

* :class:`BatchRecipe`: a reasons recipe as plain data with its model as artifact bytes (what
  travels to workers; never a pickled Keras object);
* :func:`explain_book`: a folder, glob or URL of CSV / Parquet partitions -> one Parquet file of
  reasons per partition and a manifest, on a local cluster (``workers=N``), an existing one
  (``scheduler=ADDRESS``) or in this process; an interrupted run is finished by running it again;
* :func:`explain_partition`: pandas in, pandas out (Spark's ``mapInPandas``), with
  :func:`spark_schema`; :func:`attribute_partition`: every row's attributions and the
  :class:`~nbexplain.results.ImportanceSums` of a partition (what a dashboard bundle computes);
* :func:`check_output`: exactly one row per denied applicant, nothing lost, nothing doubled.

Dask and fsspec are imported only when used (``pip install 'nbexplain[dask]'``).
"""

from ..results.importance import ImportanceSums
from .check import CheckReport, check_output
from .inputs import Partition, is_partitioned, list_partitions
from .partition import attribute_partition, explain_partition, output_columns, spark_schema
from .recipe import IMPORTANCE, BatchRecipe
from .run import explain_book

__all__ = [
    "IMPORTANCE",
    "BatchRecipe",
    "CheckReport",
    "ImportanceSums",
    "Partition",
    "attribute_partition",
    "check_output",
    "explain_book",
    "explain_partition",
    "is_partitioned",
    "list_partitions",
    "output_columns",
    "spark_schema",
]
