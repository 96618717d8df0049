"""Moving traces between stores and tools: bundles, OTLP JSON, Parquet, training data."""

from ._bundle import BundleInfo, export_bundle, write_bundle
from ._chat import export_chat_jsonl
from ._import import import_bundle
from ._otlp import export_otlp_json
from ._parquet import PARQUET_COLUMNS, export_parquet
from ._verify import is_bundle, open_bundle

__all__ = ["BundleInfo", "PARQUET_COLUMNS", "export_bundle", "export_chat_jsonl",
           "export_otlp_json", "export_parquet", "import_bundle", "is_bundle", "open_bundle",
           "write_bundle"]
