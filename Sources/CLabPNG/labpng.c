#include "labpng.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// libpng's error callback: keep the message, then unwind to the setjmp of the running call.
typedef struct {
    char *error;
    size_t error_size;
} labpng_context;

static void labpng_on_error(png_structp png, png_const_charp message) {
    labpng_context *context = (labpng_context *)png_get_error_ptr(png);
    if (context && context->error && context->error_size > 0) {
        snprintf(context->error, context->error_size, "libpng: %s", message);
    }
    png_longjmp(png, 1);
}

static void labpng_on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static int labpng_fail(char *error, size_t error_size, const char *what, const char *path) {
    if (error && error_size > 0) {
        snprintf(error, error_size, "%s %s: %s", what, path, strerror(errno));
    }
    return -1;
}

int labpng_write_rgba(const char *path, const uint8_t *rgba, uint32_t width, uint32_t height,
                      const char *const *keys, const char *const *values, int text_count,
                      char *error, size_t error_size) {
    if (error && error_size > 0) error[0] = 0;
    FILE *file = fopen(path, "wb");
    if (!file) return labpng_fail(error, error_size, "cannot create", path);

    labpng_context context = {error, error_size};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, labpng_on_error,
                                              labpng_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_textp texts = text_count > 0 ? calloc((size_t)text_count, sizeof(png_text)) : NULL;
    png_bytep *rows = malloc(sizeof(png_bytep) * (height > 0 ? height : 1));
    if (!png || !info || (text_count > 0 && !texts) || !rows) {
        if (error && error_size > 0) snprintf(error, error_size, "out of memory writing %s", path);
        png_destroy_write_struct(&png, &info);
        free(texts);
        free(rows);
        fclose(file);
        remove(path);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(texts);
        free(rows);
        fclose(file);
        remove(path);
        return -1;
    }
    png_init_io(png, file);
    png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    for (int i = 0; i < text_count; i++) {
        texts[i].compression = PNG_TEXT_COMPRESSION_NONE;
        texts[i].key = (png_charp)keys[i];
        texts[i].text = (png_charp)values[i];
        texts[i].text_length = strlen(values[i]);
    }
    if (text_count > 0) png_set_text(png, info, texts, text_count);
    for (uint32_t y = 0; y < height; y++) rows[y] = (png_bytep)(rgba + (size_t)y * width * 4);
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    free(texts);
    free(rows);
    if (fclose(file) != 0) {
        labpng_fail(error, error_size, "cannot finish writing", path);
        remove(path);
        return -1;
    }
    return 0;
}

static char *labpng_copy_string(const char *text, size_t length) {
    char *copy = malloc(length + 1);
    if (copy) {
        memcpy(copy, text, length);
        copy[length] = 0;
    }
    return copy;
}

void labpng_image_free(labpng_image *image) {
    if (!image) return;
    free(image->rgba);
    for (int i = 0; i < image->text_count; i++) {
        if (image->keys) free(image->keys[i]);
        if (image->values) free(image->values[i]);
    }
    free(image->keys);
    free(image->values);
    memset(image, 0, sizeof(*image));
}

int labpng_read_rgba(const char *path, labpng_image *image, char *error, size_t error_size) {
    if (error && error_size > 0) error[0] = 0;
    memset(image, 0, sizeof(*image));
    FILE *file = fopen(path, "rb");
    if (!file) return labpng_fail(error, error_size, "cannot open", path);
    png_byte signature[8];
    if (fread(signature, 1, 8, file) != 8 || png_sig_cmp(signature, 0, 8) != 0) {
        if (error && error_size > 0) snprintf(error, error_size, "%s is not a PNG file", path);
        fclose(file);
        return -1;
    }
    labpng_context context = {error, error_size};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, labpng_on_error,
                                             labpng_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        if (error && error_size > 0) snprintf(error, error_size, "out of memory reading %s", path);
        png_destroy_read_struct(&png, &info, NULL);
        fclose(file);
        return -1;
    }
    // `rows` is written after setjmp and read in the handler, so it must be volatile.
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        fclose(file);
        labpng_image_free(image);
        return -1;
    }
    png_init_io(png, file);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    // Normalise every colour type and depth to 8-bit RGBA.
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    int color_type = png_get_color_type(png, info);
    png_set_expand(png);
    png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    if (!(color_type & PNG_COLOR_MASK_ALPHA) && !png_get_valid(png, info, PNG_INFO_tRNS)) {
        png_set_filler(png, 0xff, PNG_FILLER_AFTER);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    image->width = width;
    image->height = height;
    image->rgba = malloc((size_t)width * height * 4 + 1);
    rows = malloc(sizeof(png_bytep) * (height > 0 ? height : 1));
    if (!image->rgba || !rows) png_error(png, "out of memory for the pixels");
    for (png_uint_32 y = 0; y < height; y++) rows[y] = image->rgba + (size_t)y * width * 4;
    png_read_image(png, rows);
    png_read_end(png, info);

    png_textp texts = NULL;
    int count = 0;
    png_get_text(png, info, &texts, &count);
    if (count > 0) {
        image->keys = calloc((size_t)count, sizeof(char *));
        image->values = calloc((size_t)count, sizeof(char *));
        if (!image->keys || !image->values) png_error(png, "out of memory for the text chunks");
        for (int i = 0; i < count; i++) {
            image->keys[i] = labpng_copy_string(texts[i].key, strlen(texts[i].key));
            size_t length = strlen(texts[i].text);
            image->values[i] = labpng_copy_string(texts[i].text, length);
            image->text_count = i + 1;
        }
    }
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(file);
    return 0;
}
