#!/usr/bin/env Rscript
# Open an ionsweep sweep table in R, and summarise it.
#
#   ionsweep sweep examples/small.yaml --out results/small
#   ionsweep merge results/small --csv          # merged.parquet, and merged.csv beside it
#   Rscript examples/readers/read_sweep.R results/small/merged.csv
#
# Parquet (merged.parquet, or a shard's table) is read with arrow::read_parquet or
# nanoparquet::read_parquet, both from CRAN: Debian 12 packages neither, so CI tests this script on
# the CSV only (base R's read.csv) and the Parquet path is untested here. The CSV has the same
# columns; a missing value is an empty field (NA in R), and every float is written with all the
# digits needed to read it back (R's own decimal parser may still land one unit in the last place
# away on 17-digit numbers).
#
# --dump prints the table as R loaded it (tab-separated, numbers with 17 significant digits, missing
# or NaN as empty, infinities as Infinity and -Infinity): the test (test/readers.test.ts) checks every value against the Parquet table.

load_table <- function(path) {
  if (grepl("\\.parquet$", path)) {
    # needs a Parquet reader from CRAN (not in Debian 12): nanoparquet is the smaller one
    if (requireNamespace("nanoparquet", quietly = TRUE)) return(as.data.frame(nanoparquet::read_parquet(path)))
    if (requireNamespace("arrow", quietly = TRUE)) return(as.data.frame(arrow::read_parquet(path)))
    stop("reading Parquet needs the nanoparquet or arrow package; or use the CSV (ionsweep merge --csv)")
  }
  # only an empty field is missing, so a string "NA" stays a string; NaN, Infinity and -Infinity are
  # read as R's NaN, Inf and -Inf
  # a network grid sweep's gridCode is a string of digits with leading zeros ("0012"): read as a
  # number it would lose them (colClasses may name only columns the file has, or R warns)
  header <- names(read.csv(path, nrows = 1, check.names = FALSE))
  classes <- c(gridCode = "character")[intersect("gridCode", header)]
  read.csv(path, na.strings = "", stringsAsFactors = FALSE, check.names = FALSE, colClasses = classes)
}

dump_table <- function(table) {
  cell <- function(column) {
    if (is.logical(column)) out <- ifelse(column, "true", "false")
    else if (is.numeric(column)) {
      out <- sprintf("%.17g", column)
      out[is.infinite(column)] <- ifelse(column[is.infinite(column)] > 0, "Infinity", "-Infinity")
    }
    else out <- as.character(column)
    out[is.na(column)] <- ""
    out
  }
  columns <- lapply(table, cell)
  cat(paste(names(table), collapse = "\t"), "\n", sep = "")
  if (nrow(table) > 0) cat(do.call(paste, c(columns, sep = "\t")), sep = "\n")
}

summarise_table <- function(table) {
  cat(sprintf("rows: %d, columns: %d\n", nrow(table), ncol(table)))
  cat("class counts:\n")
  counts <- table(table$class)
  for (name in sort(names(counts))) cat(sprintf("  %s: %d\n", name, counts[[name]]))
  # single neurons: the bursting models' burst periods; networks: the periodic networks' periods
  # (pyloric and pyloric-like networks are periodic too)
  period <- if ("burstPeriodMs" %in% names(table)) "burstPeriodMs" else "periodMs"
  rhythmic <- if (period == "burstPeriodMs") "bursting" else c("pyloric", "pyloric-like", "periodic")
  label <- if (period == "burstPeriodMs") "bursting" else "periodic"
  if (period %in% names(table)) {
    values <- table[[period]][table$class %in% rhythmic & !is.na(table[[period]])]
    if (length(values) > 0) cat(sprintf("median %s of %s rows: %.17g (n = %d)\n", period, label, median(values), length(values)))
  }
}

args <- commandArgs(trailingOnly = TRUE)
files <- args[args != "--dump"]
if (length(files) != 1) {
  message("usage: read_sweep.R [--dump] TABLE.csv|TABLE.parquet")
  quit(status = 2)
}
table <- load_table(files[[1]])
if ("--dump" %in% args) dump_table(table) else summarise_table(table)
