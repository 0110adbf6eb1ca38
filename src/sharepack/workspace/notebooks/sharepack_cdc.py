# Databricks notebook source
# sharepack's generic DLT pipeline: keeps a shared target table fed from a source table by
# change data capture. Every value comes from the pipeline configuration that sharepack sets.
import dlt
from pyspark.sql.functions import col, expr

source_asset = spark.conf.get("sharepack.source_asset")
target_asset = spark.conf.get("sharepack.target_asset")
key_columns = [
    k.strip()
    for k in spark.conf.get("sharepack.key_columns", "").split(",")
    if k.strip()
]
scd_type = int(spark.conf.get("sharepack.scd_type", "2"))
target_table = target_asset.split(".")[-1]
feed_name = f"{target_table}_changes"


@dlt.view(name=feed_name)
def changes():
    # The change data feed gives ordered inserts, updates and deletes of the source.
    return (
        spark.readStream.option("readChangeFeed", "true")
        .table(source_asset)
        .where(col("_change_type") != "update_preimage")
    )


dlt.create_streaming_table(target_table)
dlt.apply_changes(
    target=target_table,
    source=feed_name,
    keys=key_columns,
    sequence_by=col("_commit_version"),
    apply_as_deletes=expr("_change_type = 'delete'"),
    except_column_list=["_change_type", "_commit_version", "_commit_timestamp"],
    stored_as_scd_type=scd_type,
)
