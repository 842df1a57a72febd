// GDAL's C API (raster, vector/OGR, warper, spatial reference). Debian: libgdal-dev.
#include <gdal.h>
#include <gdal_alg.h>
#include <gdalwarper.h>
#include <gdal_utils.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <cpl_vsi_error.h>
