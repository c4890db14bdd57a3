"""Reading and writing data: streaming Arrow record batches in, atomic files out."""
from .readers import DataSource, open_source, read_table, require_columns
from .conventions import parse_label_list, parse_choice, parse_codes
from .writers import RowWriter, atomic_write_text

__all__ = ["DataSource", "open_source", "read_table", "require_columns", "parse_label_list",
           "parse_choice", "parse_codes", "RowWriter", "atomic_write_text"]
