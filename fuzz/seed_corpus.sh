#!/bin/sh
# Seeds fuzz/corpus-grib and fuzz/corpus-netcdf (gitignored) from the sample data in
# ../shared/data plus small derived inputs: single GRIB messages (cheap to mutate, and
# libFuzzer truncates inputs over -max_len, 1 MB by default) and NetCDF files generated
# from fuzz/seeds/*.cdl in each on-disk format. Needs grib_copy/grib_set (libeccodes-tools)
# and ncgen (netcdf-bin). Run from the project root: sh fuzz/seed_corpus.sh
set -eu
data=${GALE_SHARED_DATA:-../shared/data}
g=fuzz/corpus-grib
n=fuzz/corpus-netcdf
mkdir -p "$g" "$n"

cp "$data"/*.grib* "$g"/
for f in era5-levels-members era5-2mt-2019-03-uk pl_regular_ll; do
  grib_copy -w count=1 "$data/$f.grib" "$g/$f-msg1.grib"
  grib_copy -w count=1/2/3 "$data/$f.grib" "$g/$f-msg123.grib"
done
grib_set -s edition=2 "$g/pl_regular_ll-msg1.grib" "$g/pl_regular_ll-msg1-ed2.grib2"
grib_set -s bitmapPresent=1 "$g/era5-2mt-2019-03-uk-msg1.grib" "$g/uk-msg1-bitmap.grib"
grib_set -s iScansNegatively=1 "$g/pl_regular_ll-msg1.grib" "$g/pl-msg1-iscansneg.grib"
grib_set -s jPointsAreConsecutive=1 "$g/pl_regular_ll-msg1.grib" "$g/pl-msg1-jconsec.grib"

cp "$data"/*.nc "$n"/
for cdl in fuzz/seeds/*.cdl; do
  base=$(basename "$cdl" .cdl)
  for kind in classic 64-bit-offset cdf5 netCDF-4 netCDF-4-classic; do
    ncgen -k "$kind" -o "$n/$base-$kind.nc" "$cdl"
  done
done
chmod -R u+w "$g" "$n"
echo "seeded: $(ls "$g" | wc -l) GRIB, $(ls "$n" | wc -l) NetCDF inputs"
