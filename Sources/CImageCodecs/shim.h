// System image codecs from Debian: libjpeg62-turbo-dev, libpng-dev, libwebp-dev (make deps).
#include <stdio.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>
#include <webp/demux.h>
