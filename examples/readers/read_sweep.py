#!/usr/bin/env python3
"""Open an ionsweep sweep table in Python with pandas, and summarise it.

    ionsweep sweep examples/small.yaml --out results/small
    ionsweep merge results/small --csv          # merged.parquet, and merged.csv beside it
    python3 examples/readers/read_sweep.py results/small/merged.csv

Parquet (merged.parquet, or a shard's table) is read the same way by pandas.read_parquet, which needs
pyarrow or fastparquet from PyPI: Debian 12 packages neither, so CI tests this script on the CSV only
and the Parquet path is untested here. The CSV has the same columns; a missing value is an empty
field (NaN in pandas), and every float is written with all the digits needed to read it back exactly.

--dump prints the table as pandas loaded it (tab-separated, floats as repr, missing or NaN as empty,
infinities as Infinity and -Infinity): the test
(test/readers.test.ts) checks every value against the Parquet table.
"""
import sys

import pandas as pd


def load(path: str) -> pd.DataFrame:
    if path.endswith(".parquet"):
        return pd.read_parquet(path)  # needs pyarrow or fastparquet (not in Debian 12)
    # An empty field is a missing value and NaN a float's NaN (both NaN in pandas); no other text is
    # (pandas' defaults would also turn strings such as "NA" or "null" into NaN). Infinity and
    # -Infinity are read as floats. float_precision="round_trip" parses with Python's float(), which
    # gives back the written doubles exactly (pandas' default parser may be off in the last bit).
    # A network grid sweep's gridCode is a string of digits with leading zeros ("0012"): read as a
    # number it would lose them.
    return pd.read_csv(path, keep_default_na=False, na_values=["", "NaN"], float_precision="round_trip",
                       dtype={"gridCode": str})


def dump(table: pd.DataFrame) -> None:
    def cell(v):
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, (bool,)) or type(v).__name__ == "bool_":
            return "true" if v else "false"
        if isinstance(v, float) or type(v).__name__.startswith("float"):
            if v in (float("inf"), float("-inf")):
                return "Infinity" if v > 0 else "-Infinity"
            return repr(float(v))
        if type(v).__name__.startswith("int"):
            return str(int(v))
        return str(v)

    print("\t".join(table.columns))
    for row in table.itertuples(index=False):
        print("\t".join(cell(v) for v in row))


def summarise(table: pd.DataFrame) -> None:
    print(f"rows: {len(table)}, columns: {len(table.columns)}")
    counts = table["class"].value_counts()
    print("class counts:")
    for name in sorted(counts.index):
        print(f"  {name}: {counts[name]}")
    # single neurons: the bursting models' burst periods; networks: the periodic networks' periods
    # (pyloric and pyloric-like networks are periodic too)
    period = "burstPeriodMs" if "burstPeriodMs" in table.columns else "periodMs"
    rhythmic, label = (["bursting"], "bursting") if period == "burstPeriodMs" else (["pyloric", "pyloric-like", "periodic"], "periodic")
    if period in table.columns:
        values = table.loc[table["class"].isin(rhythmic), period].dropna()
        if len(values):
            print(f"median {period} of {label} rows: {values.median()!r} (n = {len(values)})")


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--dump"]
    if len(args) != 1:
        print("usage: read_sweep.py [--dump] TABLE.csv|TABLE.parquet", file=sys.stderr)
        return 2
    table = load(args[0])
    if "--dump" in argv:
        dump(table)
    else:
        summarise(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
