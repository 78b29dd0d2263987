// System image codecs from Debian: libjpeg62-turbo-dev, libpng-dev, libwebp-dev (make deps).
//
// libjpeg and libpng report fatal errors by longjmp-ing out of a callback, which Swift cannot
// do; the two small decode helpers below keep every setjmp/longjmp inside C and hand Swift a
// status code, a message and plain buffers. Everything else (colour conversion, EXIF, pixel
// layout) is done in Swift.
#ifndef SVCO_IMAGE_CODECS_SHIM_H
#define SVCO_IMAGE_CODECS_SHIM_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>

/// Result of a C-side decode. `pixels`, `exif`, `xmp` are malloc'd and owned by the caller
/// (free with svco_decoded_free). On failure `message` holds the codec's text.
typedef struct svco_decoded {
    unsigned char *pixels;   // rows of width * channels * (bit_depth / 8) bytes, no padding
    int width, height;
    int channels;            // samples per pixel as stored in `pixels`
    int bit_depth;           // 8 or 16 (16: big-endian sample pairs)
    int color_type;          // PNG colour type; for JPEG: 1 grey, 3 RGB, 4 CMYK
    int source_bits;         // PNG bit depth before unpacking (1, 2, 4, 8, 16)
    int adobe_inverted;      // JPEG CMYK written with Adobe's inverted polarity
    int palette_size;        // PNG palette entries in `palette` (RGB triples)
    unsigned char palette[256 * 3];
    unsigned char *exif;     // raw EXIF payload (JPEG APP1 incl. "Exif\0\0", PNG eXIf, ...)
    size_t exif_size;
    unsigned char *xmp;      // XMP packet (JPEG APP1 / PNG iTXt XML:com.adobe.xmp)
    size_t xmp_size;
    unsigned char *raw_exif_text; // PNG text chunk "Raw profile type exif" (ImageMagick)
    size_t raw_exif_text_size;
    char message[256];
} svco_decoded;

static inline void svco_decoded_free(svco_decoded *d) {
    free(d->pixels); d->pixels = NULL;
    free(d->exif); d->exif = NULL;
    free(d->xmp); d->xmp = NULL;
    free(d->raw_exif_text); d->raw_exif_text = NULL;
}

static inline unsigned char *svco_copy_bytes(const void *src, size_t n) {
    unsigned char *p = (unsigned char *)malloc(n ? n : 1);
    if (p && n) memcpy(p, src, n);
    return p;
}

// MARK: JPEG

struct svco_jpeg_error {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    svco_decoded *out;
};

static void svco_jpeg_error_exit(j_common_ptr cinfo) {
    struct svco_jpeg_error *err = (struct svco_jpeg_error *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    snprintf(err->out->message, sizeof err->out->message, "%s", text);
    longjmp(err->jump, 1);
}

// Pillow fails on a truncated JPEG ("image file is truncated") while libjpeg only warns and
// pads with grey; treat that one warning as fatal and ignore the rest, as Pillow does.
static void svco_jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        svco_jpeg_error_exit(cinfo);
    }
}

/// Decodes a JPEG held in memory; images over `max_pixels` are refused before any pixel
/// buffer is allocated. Returns 0 on success.
static inline int svco_jpeg_decode(const unsigned char *data, size_t size, double max_pixels, svco_decoded *out) {
    struct jpeg_decompress_struct cinfo;
    struct svco_jpeg_error jerr;
    volatile int created = 0;
    memset(out, 0, sizeof *out);
    cinfo.err = jpeg_std_error(&jerr.base);
    jerr.base.error_exit = svco_jpeg_error_exit;
    jerr.base.emit_message = svco_jpeg_emit_message;
    jerr.out = out;
    if (setjmp(jerr.jump)) {
        if (created) jpeg_destroy_decompress(&cinfo);
        svco_decoded_free(out);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    created = 1;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo.out_color_space = JCS_GRAYSCALE; out->color_type = 1; break;
    case JCS_CMYK: case JCS_YCCK:
        cinfo.out_color_space = JCS_CMYK; out->color_type = 4; break;
    case JCS_RGB: case JCS_YCbCr:
        cinfo.out_color_space = JCS_RGB; out->color_type = 3; break;
    default:
        snprintf(out->message, sizeof out->message, "unsupported JPEG colour space %d (%d components)",
                 (int)cinfo.jpeg_color_space, cinfo.num_components);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    // Pillow's defaults: accurate integer IDCT and fancy upsampling.
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
        if (m->marker != JPEG_APP0 + 1) continue;
        if (!out->exif && m->data_length >= 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
            out->exif = svco_copy_bytes(m->data, m->data_length);
            out->exif_size = m->data_length;
        } else if (!out->xmp && m->data_length >= 29 &&
                   memcmp(m->data, "http://ns.adobe.com/xap/1.0/\0", 29) == 0) {
            out->xmp = svco_copy_bytes(m->data + 29, m->data_length - 29);
            out->xmp_size = m->data_length - 29;
        }
    }
    if ((double)cinfo.image_width * (double)cinfo.image_height > max_pixels) {
        snprintf(out->message, sizeof out->message, "%ux%u pixels exceed the limit of %.0f (decompression bomb?)",
                 cinfo.image_width, cinfo.image_height, max_pixels);
        jpeg_destroy_decompress(&cinfo);
        svco_decoded_free(out);
        return 1;
    }
    jpeg_start_decompress(&cinfo);
    out->width = (int)cinfo.output_width;
    out->height = (int)cinfo.output_height;
    out->channels = cinfo.output_components;
    out->bit_depth = 8;
    out->source_bits = 8;
    out->adobe_inverted = cinfo.saw_Adobe_marker ? 1 : 0;
    size_t stride = (size_t)out->width * (size_t)out->channels;
    out->pixels = (unsigned char *)malloc(stride * (size_t)out->height + 1);
    if (!out->pixels) {
        snprintf(out->message, sizeof out->message, "out of memory for %dx%d pixels", out->width, out->height);
        jpeg_destroy_decompress(&cinfo);
        svco_decoded_free(out);
        return 1;
    }
    // Several rows per call let libjpeg-turbo upsample/convert whole iMCU rows at once.
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW rows[16];
        JDIMENSION n = cinfo.output_height - cinfo.output_scanline;
        if (n > 16) n = 16;
        for (JDIMENSION i = 0; i < n; i++) rows[i] = out->pixels + stride * (cinfo.output_scanline + i);
        jpeg_read_scanlines(&cinfo, rows, n);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

// MARK: PNG

struct svco_png_source {
    const unsigned char *data;
    size_t size, offset;
};

static void svco_png_read(png_structp png, png_bytep dest, size_t length) {
    struct svco_png_source *src = (struct svco_png_source *)png_get_io_ptr(png);
    if (src->size - src->offset < length) {
        png_error(png, "file is truncated");
    }
    memcpy(dest, src->data + src->offset, length);
    src->offset += length;
}

static void svco_png_error(png_structp png, png_const_charp msg) {
    svco_decoded *out = (svco_decoded *)png_get_error_ptr(png);
    snprintf(out->message, sizeof out->message, "%s", msg);
    png_longjmp(png, 1);
}

static void svco_png_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void svco_png_collect_text(png_structp png, png_infop info, svco_decoded *out) {
    png_textp text = NULL;
    int count = 0;
    png_bytep exif = NULL;
    png_uint_32 exif_size = 0;
    if (!out->exif && png_get_eXIf_1(png, info, &exif_size, &exif) && exif && exif_size) {
        out->exif = svco_copy_bytes(exif, exif_size);
        out->exif_size = exif_size;
    }
    if (png_get_text(png, info, &text, &count) > 0) {
        for (int i = 0; i < count; i++) {
            size_t n = text[i].compression > 0 ? text[i].itxt_length : text[i].text_length;
            if (!out->xmp && strcmp(text[i].key, "XML:com.adobe.xmp") == 0) {
                out->xmp = svco_copy_bytes(text[i].text, n);
                out->xmp_size = n;
            } else if (!out->raw_exif_text && strcmp(text[i].key, "Raw profile type exif") == 0) {
                out->raw_exif_text = svco_copy_bytes(text[i].text, n);
                out->raw_exif_text_size = n;
            }
        }
    }
}

/// Decodes a PNG held in memory without colour transforms: samples below 8 bits are unpacked
/// to one byte each (values unscaled), 16-bit samples stay big-endian. Images over `max_pixels`
/// are refused before any pixel buffer is allocated. Returns 0 on success.
static inline int svco_png_decode(const unsigned char *data, size_t size, double max_pixels, svco_decoded *out) {
    png_structp png;
    png_infop info;
    png_uint_32 w = 0, h = 0;
    int depth = 0, ctype = 0, interlace = 0;
    struct svco_png_source src = {data, size, 0};
    png_bytep *volatile rows = NULL;
    memset(out, 0, sizeof *out);
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(out->message, sizeof out->message, "not a PNG signature");
        return 1;
    }
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, out, svco_png_error, svco_png_warning);
    if (!png) { snprintf(out->message, sizeof out->message, "libpng initialisation failed"); return 1; }
    info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(out->message, sizeof out->message, "libpng initialisation failed");
        return 1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        svco_decoded_free(out);
        return 1;
    }
    png_set_read_fn(png, &src, svco_png_read);
    // Pillow checks no image-size limit of libpng's own (it has its decompression-bomb check);
    // lift libpng's default 1,000,000-pixel-per-row guard to the PNG maximum.
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    if ((double)w * (double)h > max_pixels) {
        snprintf(out->message, sizeof out->message, "%ux%u pixels exceed the limit of %.0f (decompression bomb?)",
                 (unsigned)w, (unsigned)h, max_pixels);
        png_longjmp(png, 1);
    }
    if (depth < 8) png_set_packing(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    out->width = (int)w;
    out->height = (int)h;
    out->channels = png_get_channels(png, info);
    out->bit_depth = depth == 16 ? 16 : 8;
    out->source_bits = depth;
    out->color_type = ctype;
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        png_colorp pal = NULL;
        int n = 0;
        if (png_get_PLTE(png, info, &pal, &n) && pal) {
            if (n > 256) n = 256;
            for (int i = 0; i < n; i++) {
                out->palette[3 * i] = pal[i].red;
                out->palette[3 * i + 1] = pal[i].green;
                out->palette[3 * i + 2] = pal[i].blue;
            }
            out->palette_size = n;
        }
    }
    size_t stride = png_get_rowbytes(png, info);
    size_t expected = (size_t)w * (size_t)out->channels * (size_t)(out->bit_depth / 8);
    if (stride != expected) png_error(png, "unexpected row size");
    out->pixels = (unsigned char *)malloc(stride * (size_t)h + 1);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * ((size_t)h + 1));
    if (!out->pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = out->pixels + stride * y;
    png_read_image(png, rows);
    svco_png_collect_text(png, info, out);
    png_read_end(png, info);
    // Chunks after IDAT (eXIf, iTXt) count too: Pillow reads them when it loads the image.
    svco_png_collect_text(png, info, out);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

// MARK: re-encoding (dataset preparation)

/// An encoded file; `data` is malloc'd (free with svco_encoded_free).
typedef struct svco_encoded {
    unsigned char *data;
    size_t size;
    char message[256];
} svco_encoded;

static inline void svco_encoded_free(svco_encoded *e) { free(e->data); e->data = NULL; e->size = 0; }

/// A JPEG mirrored left-right and saved again exactly as Pillow 10 does
/// `Image.open(f).transpose(FLIP_LEFT_RIGHT).save(g)` for a .jpg name: decoded in Pillow's mode
/// (L, RGB or CMYK; accurate IDCT, fancy upsampling, no EXIF rotation), re-encoded with libjpeg's
/// defaults (quality 75, 4:2:0, JFIF 1.01 density 1:1, Huffman tables not optimised) and the
/// source's last COM marker (Pillow keeps `info["comment"]`); EXIF and ICC are dropped.
static inline int svco_jpeg_flip_left_right(const unsigned char *data, size_t size, double max_pixels, svco_encoded *out) {
    struct jpeg_decompress_struct d;
    struct jpeg_compress_struct c;
    struct svco_jpeg_error jerr;
    svco_decoded scratch;
    unsigned char *volatile pixels = NULL;
    unsigned char *volatile comment = NULL;
    volatile unsigned int comment_size = 0;
    volatile int have_d = 0, have_c = 0;
    unsigned char *volatile mem = NULL;
    unsigned long mem_size = 0;
    memset(out, 0, sizeof *out);
    memset(&scratch, 0, sizeof scratch);
    d.err = jpeg_std_error(&jerr.base);
    c.err = d.err;
    jerr.base.error_exit = svco_jpeg_error_exit;
    jerr.base.emit_message = svco_jpeg_emit_message;
    jerr.out = &scratch;
    if (setjmp(jerr.jump)) {
        snprintf(out->message, sizeof out->message, "%s", scratch.message);
        if (have_d) jpeg_destroy_decompress(&d);
        if (have_c) jpeg_destroy_compress(&c);
        free(pixels); free(comment); free(mem);
        return 1;
    }
    jpeg_create_decompress(&d);
    have_d = 1;
    jpeg_mem_src(&d, data, (unsigned long)size);
    jpeg_save_markers(&d, JPEG_COM, 0xFFFF);
    jpeg_read_header(&d, TRUE);
    J_COLOR_SPACE space;
    switch (d.jpeg_color_space) {
    case JCS_GRAYSCALE: space = JCS_GRAYSCALE; break;
    case JCS_RGB: case JCS_YCbCr: space = JCS_RGB; break;
    case JCS_CMYK: case JCS_YCCK: space = JCS_CMYK; break;  // Pillow reads and writes "CMYK;I": samples pass through
    default:
        snprintf(scratch.message, sizeof scratch.message, "unsupported JPEG colour space %d", (int)d.jpeg_color_space);
        longjmp(jerr.jump, 1);
    }
    if ((double)d.image_width * (double)d.image_height > max_pixels) {
        snprintf(scratch.message, sizeof scratch.message, "%ux%u pixels exceed the limit", d.image_width, d.image_height);
        longjmp(jerr.jump, 1);
    }
    for (jpeg_saved_marker_ptr m = d.marker_list; m; m = m->next) {
        if (m->marker != JPEG_COM) continue;
        free(comment);
        comment = (unsigned char *)svco_copy_bytes(m->data, m->data_length);
        comment_size = m->data_length;
    }
    d.out_color_space = space;
    d.dct_method = JDCT_ISLOW;
    d.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&d);
    int w = (int)d.output_width, h = (int)d.output_height, n = d.output_components;
    size_t stride = (size_t)w * (size_t)n;
    pixels = (unsigned char *)malloc(stride * (size_t)h + 1);
    if (!pixels) { snprintf(scratch.message, sizeof scratch.message, "out of memory"); longjmp(jerr.jump, 1); }
    while (d.output_scanline < d.output_height) {
        JSAMPROW row = pixels + stride * d.output_scanline;
        jpeg_read_scanlines(&d, &row, 1);
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    have_d = 0;
    for (int y = 0; y < h; y++) {
        unsigned char *row = pixels + stride * (size_t)y;
        for (int a = 0, b = w - 1; a < b; a++, b--) {
            for (int k = 0; k < n; k++) {
                unsigned char t = row[a * n + k]; row[a * n + k] = row[b * n + k]; row[b * n + k] = t;
            }
        }
    }
    jpeg_create_compress(&c);
    have_c = 1;
    unsigned char *buffer = NULL;
    jpeg_mem_dest(&c, &buffer, &mem_size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = n;
    c.in_color_space = space;
    jpeg_set_defaults(&c);
    jpeg_start_compress(&c, TRUE);
    if (comment) jpeg_write_marker(&c, JPEG_COM, comment, comment_size);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = pixels + stride * c.next_scanline;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    mem = buffer;
    jpeg_destroy_compress(&c);
    have_c = 0;
    out->data = mem;
    out->size = (size_t)mem_size;
    free(pixels); free(comment);
    return 0;
}

/// RGB pixels as a lossy WebP the way Pillow 10's `save(format="WEBP")` writes an RGB image:
/// WebPConfigInit, quality 80, method 4, not lossless, not exact, ARGB input.
static inline int svco_webp_encode_rgb(const unsigned char *rgb, int width, int height, float quality, int method, svco_encoded *out) {
    WebPConfig config;
    WebPPicture pic;
    WebPMemoryWriter writer;
    memset(out, 0, sizeof *out);
    if (!WebPConfigInit(&config)) { snprintf(out->message, sizeof out->message, "WebP: bad library version"); return 1; }
    config.lossless = 0;
    config.quality = quality;
    config.method = method;
    config.exact = 0;
    if (!WebPValidateConfig(&config)) { snprintf(out->message, sizeof out->message, "WebP: invalid configuration"); return 1; }
    if (!WebPPictureInit(&pic)) { snprintf(out->message, sizeof out->message, "WebP: cannot initialise the picture"); return 1; }
    pic.width = width;
    pic.height = height;
    pic.use_argb = 1;
    if (!WebPPictureImportRGB(&pic, rgb, 3 * width)) {
        WebPPictureFree(&pic);
        snprintf(out->message, sizeof out->message, "WebP: out of memory");
        return 1;
    }
    WebPMemoryWriterInit(&writer);
    pic.writer = WebPMemoryWrite;
    pic.custom_ptr = &writer;
    int ok = WebPEncode(&config, &pic);
    int code = pic.error_code;
    WebPPictureFree(&pic);
    if (!ok) {
        WebPMemoryWriterClear(&writer);
        snprintf(out->message, sizeof out->message, "WebP encoding error %d", code);
        return 1;
    }
    out->data = (unsigned char *)malloc(writer.size ? writer.size : 1);
    if (!out->data) { WebPMemoryWriterClear(&writer); snprintf(out->message, sizeof out->message, "out of memory"); return 1; }
    memcpy(out->data, writer.mem, writer.size);
    out->size = writer.size;
    WebPMemoryWriterClear(&writer);
    return 0;
}

#endif
