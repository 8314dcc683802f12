// CLabPNG: PNG writing with provenance text chunks, and reading back, on libpng's classic API.
// libpng reports errors by longjmp, which Swift cannot catch, so the setjmp lives here in C and every
// function returns 0 on success or -1 with a message in `error` (NUL-terminated, at most `error_size` bytes).
#ifndef LABPNG_H
#define LABPNG_H

#include <stddef.h>
#include <stdint.h>

/// Writes `width` x `height` straight (not premultiplied) RGBA8 pixels, rows top to bottom, to `path` as an
/// 8-bit RGBA PNG with `text_count` uncompressed tEXt chunks (keys[i] -> values[i]; keys are 1-79 Latin-1
/// characters). Returns 0, or -1 with the reason in `error`; a failed write removes the partial file.
int labpng_write_rgba(const char *path, const uint8_t *rgba, uint32_t width, uint32_t height,
                      const char *const *keys, const char *const *values, int text_count,
                      char *error, size_t error_size);

/// A decoded PNG: straight RGBA8 pixels (width * height * 4 bytes, rows top to bottom) and its text chunks.
typedef struct {
    uint32_t width;
    uint32_t height;
    uint8_t *rgba;
    int text_count;
    char **keys;
    char **values;
} labpng_image;

/// Reads any PNG (palette, grey, 16-bit, with or without alpha) into `image` as RGBA8, with its tEXt, zTXt
/// and iTXt chunks. Returns 0, or -1 with the reason in `error`. Free with `labpng_image_free`.
int labpng_read_rgba(const char *path, labpng_image *image, char *error, size_t error_size);

/// Frees what `labpng_read_rgba` allocated and zeroes the struct.
void labpng_image_free(labpng_image *image);

#endif
