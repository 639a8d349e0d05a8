//! Avatar normalisation: untrusted uploaded bytes in, a bounded RGBA PNG out. Pure: no
//! IO, no clock. Storing avatars and serving them over HTTP live elsewhere.
//!
//! The format is taken from the bytes, never from a content type. Dimensions are checked
//! from the header before any pixel is decoded, and the decoder runs under
//! [`image::Limits`], so a decompression bomb is refused before it can allocate.

use std::io::{self, Cursor};

use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::error::LimitErrorKind;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{
    DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageError, ImageFormat,
    ImageReader,
};

/// Limits on uploaded avatars.
#[derive(Debug, Clone, Copy)]
pub struct AvatarLimits {
    /// Largest upload accepted, in bytes.
    pub max_upload_bytes: usize,
    /// Largest width or height the uploaded image may declare, in pixels.
    pub max_source_side: u32,
    /// Most the decoder may allocate, decoded pixels included, in bytes.
    pub max_alloc_bytes: u64,
    /// Side of the square the avatar is scaled down to fit, in pixels.
    pub side: u32,
}

impl Default for AvatarLimits {
    fn default() -> Self {
        Self {
            max_upload_bytes: 2 * 1024 * 1024,
            max_source_side: 4096,
            max_alloc_bytes: 64 * 1024 * 1024,
            side: 256,
        }
    }
}

/// A normalised avatar: a PNG at most `side`×`side`, aspect ratio kept.
#[derive(Debug, Clone)]
pub struct Avatar {
    /// The encoded PNG (8-bit RGBA).
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    /// The upload is over `max_upload_bytes`.
    #[error("avatar is over {max} bytes")]
    TooLarge { max: usize },
    /// The format is not recognised, or is not PNG, JPEG, WebP or GIF.
    #[error("avatar is not a png, jpeg, webp or gif image")]
    NotAnImage,
    /// The format is recognised but the data is truncated, corrupt or uses a feature
    /// the decoder lacks.
    #[error("avatar image is unreadable: {0}")]
    Unreadable(String),
    /// The header declares a side over `max_source_side`, or pixels that would not fit
    /// in the decoder's allocation limit.
    #[error("avatar image of {width}x{height} pixels is too big (at most {max} pixels a side)")]
    Dimensions { width: u32, height: u32, max: u32 },
}

impl AvatarError {
    /// The stable code the API reports for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "avatar_too_large",
            Self::NotAnImage => "not_an_image",
            Self::Unreadable(_) => "unreadable_image",
            Self::Dimensions { .. } => "image_too_big",
        }
    }
}

/// Turns uploaded bytes into an [`Avatar`]: detects the format from the bytes (PNG,
/// JPEG, WebP or GIF; the first frame of an animation), refuses oversized headers,
/// decodes under `limits`, applies the Exif orientation, scales down to fit
/// `side`×`side` (never up) and encodes 8-bit RGBA PNG. The same input always gives
/// the same output.
pub fn normalize(input: &[u8], limits: &AvatarLimits) -> Result<Avatar, AvatarError> {
    if input.len() > limits.max_upload_bytes {
        return Err(AvatarError::TooLarge {
            max: limits.max_upload_bytes,
        });
    }
    let format = ImageReader::new(Cursor::new(input))
        .with_guessed_format()
        .map_err(|e| AvatarError::Unreadable(format!("reading the upload: {e}")))?
        .format();
    let format = match format {
        Some(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif)) => {
            f
        }
        _ => return Err(AvatarError::NotAnImage),
    };
    // The decoders are third-party code fed hostile bytes: should one of them panic,
    // the upload is refused and the caller's task lives on.
    std::panic::catch_unwind(|| decode_and_fit(input, format, limits)).unwrap_or_else(|_| {
        Err(AvatarError::Unreadable(format!(
            "the {} decoder failed",
            format_name(format)
        )))
    })
}

/// Decodes `input`, known to be `format`, and scales and encodes the result.
fn decode_and_fit(
    input: &[u8],
    format: ImageFormat,
    limits: &AvatarLimits,
) -> Result<Avatar, AvatarError> {
    let too_big = |(width, height): (u32, u32)| AvatarError::Dimensions {
        width,
        height,
        max: limits.max_source_side,
    };
    let decoder_limits = decoder_limits(limits, true);
    let mut reader = ImageReader::with_format(Cursor::new(input), format);
    reader.limits(decoder_limits.clone());
    // `into_decoder` reads only the header (PNG: IHDR, then the chunks before the first
    // IDAT) and refuses declared dimensions over the limits before going further.
    let mut decoder = match reader.into_decoder() {
        Ok(decoder) => decoder,
        Err(ImageError::Limits(e)) if e.kind() == LimitErrorKind::DimensionError => {
            return Err(match declared_dimensions(input, format, limits) {
                Some(dimensions) => too_big(dimensions),
                None => unreadable(format, ImageError::Limits(e)),
            });
        }
        Err(e) => return Err(unreadable(format, e)),
    };
    let (width, height) = decoder.dimensions();
    if width > limits.max_source_side || height > limits.max_source_side {
        return Err(too_big((width, height)));
    }
    if width == 0 || height == 0 {
        return Err(AvatarError::Unreadable(format!(
            "{} image has no pixels",
            format_name(format)
        )));
    }
    // As `ImageReader::decode` does: the decoded pixels count against the allocation
    // limit, and the decoder gets what remains for its own buffers.
    let mut remaining = decoder_limits;
    if remaining.reserve(decoder.total_bytes()).is_err() {
        return Err(too_big((width, height)));
    }
    decoder
        .set_limits(remaining)
        .map_err(|e| unreadable(format, e))?;
    // A broken Exif block only loses the rotation, not the avatar.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        ImageError::Limits(_) => too_big((width, height)),
        e => unreadable(format, e),
    })?;

    // The box is square, so rotating after scaling keeps the image inside it.
    let mut image = fit(image, limits.side.max(1));
    image.apply_orientation(orientation);
    encode_png(image)
}

/// Scales `image` down, never up, to fit `side`×`side` keeping its aspect ratio.
///
/// Lanczos3 over a large source is slow (~0.4 s from 4096×4096 in release), so an image over
/// six times the side is first box-averaged by an integer factor to between two and
/// three times the side; Lanczos3 then does the rest, ten times faster and looking the
/// same.
fn fit(image: DynamicImage, side: u32) -> DynamicImage {
    let (width, height) = (image.width(), image.height());
    if width <= side && height <= side {
        return image;
    }
    let ratio = f64::min(
        f64::from(side) / f64::from(width),
        f64::from(side) / f64::from(height),
    );
    // Never above `side`: the longer edge scales to exactly `side`, the shorter to at
    // most that.
    let scaled = |edge: u32| ((f64::from(edge) * ratio).round() as u32).clamp(1, side);
    let (target_width, target_height) = (scaled(width), scaled(height));
    let shrink = width.max(height) / side.saturating_mul(2);
    let image = if shrink >= 3 {
        image.thumbnail_exact((width / shrink).max(1), (height / shrink).max(1))
    } else {
        image
    };
    image.resize_exact(target_width, target_height, FilterType::Lanczos3)
}

/// The [`image::Limits`] for the decoder; with `dimensions` false, only allocation is
/// limited.
fn decoder_limits(limits: &AvatarLimits, dimensions: bool) -> image::Limits {
    let mut decoder_limits = image::Limits::default();
    if dimensions {
        decoder_limits.max_image_width = Some(limits.max_source_side);
        decoder_limits.max_image_height = Some(limits.max_source_side);
    }
    decoder_limits.max_alloc = Some(limits.max_alloc_bytes);
    decoder_limits
}

/// The dimensions the header declares, for the message once the decoder has refused
/// them.
fn declared_dimensions(
    input: &[u8],
    format: ImageFormat,
    limits: &AvatarLimits,
) -> Option<(u32, u32)> {
    if format == ImageFormat::Png {
        // The PNG decoder refuses right after IHDR, before it would reach the first
        // IDAT; IHDR is the first chunk, and the decoder has checked it.
        let be32 = |at: usize| {
            let bytes = input.get(at..at + 4)?;
            Some(u32::from_be_bytes(bytes.try_into().ok()?))
        };
        return Some((be32(16)?, be32(20)?));
    }
    // The other decoders refuse after reading the whole header, so reading it again
    // without the dimension limit succeeds.
    let mut reader = ImageReader::with_format(Cursor::new(input), format);
    reader.limits(decoder_limits(limits, false));
    reader.into_dimensions().ok()
}

/// Encodes `image` as 8-bit RGBA PNG.
fn encode_png(image: DynamicImage) -> Result<Avatar, AvatarError> {
    let rgba = image.into_rgba8();
    let (width, height) = rgba.dimensions();
    let mut png = Vec::new();
    PngEncoder::new_with_quality(&mut png, CompressionType::Default, PngFilter::Adaptive)
        .write_image(rgba.as_raw(), width, height, ExtendedColorType::Rgba8)
        .map_err(|e| AvatarError::Unreadable(format!("encoding the avatar: {}", tidy(&e))))?;
    Ok(Avatar { png, width, height })
}

/// Describes a decoding failure.
fn unreadable(format: ImageFormat, e: ImageError) -> AvatarError {
    let name = format_name(format);
    AvatarError::Unreadable(match e {
        ImageError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            format!("{name} data ends early")
        }
        ImageError::Decoding(e) => match std::error::Error::source(&e) {
            Some(cause) => format!("{name} data is corrupt: {}", tidy(cause)),
            None => format!("{name} data is corrupt"),
        },
        ImageError::Unsupported(e) => format!("{name} feature not supported: {}", tidy(&e)),
        e => format!("{name} data is unreadable: {}", tidy(&e)),
    })
}

/// A third-party error message in our style: lowercase start, no trailing period.
fn tidy(e: &dyn std::fmt::Display) -> String {
    let message = e.to_string();
    let message = message.trim_end_matches('.');
    let mut chars = message.chars();
    match (chars.next(), chars.next()) {
        // Leaves acronyms ("IO", "I/O") alone.
        (Some(first), Some(second)) if second.is_lowercase() => {
            first.to_lowercase().chain([second]).chain(chars).collect()
        }
        _ => message.to_owned(),
    }
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "png",
        ImageFormat::Jpeg => "jpeg",
        ImageFormat::WebP => "webp",
        ImageFormat::Gif => "gif",
        _ => "image",
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use image::codecs::jpeg::JpegEncoder;
    use image::{GenericImageView, Rgba, RgbaImage};

    use super::*;

    /// A gradient with some alpha, so scaling has something to average.
    fn picture(width: u32, height: u32) -> DynamicImage {
        DynamicImage::ImageRgba8(RgbaImage::from_fn(width, height, |x, y| {
            Rgba([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8, 200])
        }))
    }

    fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let image = match format {
            ImageFormat::Jpeg => DynamicImage::ImageRgb8(image.to_rgb8()),
            _ => image.clone(),
        };
        let mut bytes = Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// A valid small PNG whose IHDR is patched to declare `width`×`height`, with the
    /// CRC recomputed.
    fn png_declaring(width: u32, height: u32) -> Vec<u8> {
        let mut png = encode(&picture(8, 8), ImageFormat::Png);
        assert_eq!(&png[12..16], b"IHDR");
        png[16..20].copy_from_slice(&width.to_be_bytes());
        png[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    #[track_caller]
    fn check(input: &[u8], (width, height): (u32, u32)) -> Avatar {
        let avatar = normalize(input, &AvatarLimits::default()).unwrap();
        assert_eq!((avatar.width, avatar.height), (width, height));
        let decoded = image::load_from_memory_with_format(&avatar.png, ImageFormat::Png).unwrap();
        assert_eq!(decoded.dimensions(), (width, height));
        assert_eq!(decoded.color(), image::ColorType::Rgba8);
        avatar
    }

    #[track_caller]
    fn check_err(input: &[u8], code: &str) -> AvatarError {
        let e = normalize(input, &AvatarLimits::default()).unwrap_err();
        assert_eq!(e.code(), code, "{e}");
        e
    }

    #[test]
    fn each_format_is_scaled_to_fit() {
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::WebP,
        ] {
            let wide = encode(&picture(1000, 500), format);
            check(&wide, (256, 128));
            let tall = encode(&picture(300, 600), format);
            check(&tall, (128, 256));
            let small = encode(&picture(64, 64), format);
            check(&small, (64, 64));
        }
    }

    #[test]
    fn box_then_lanczos_looks_like_lanczos() {
        let noise = |x: u32, y: u32| (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 7;
        let image = DynamicImage::ImageRgba8(RgbaImage::from_fn(3000, 1700, |x, y| {
            let stripes = if (x / 7 + y / 5) % 2 == 0 { 40 } else { 0 };
            Rgba([
                (x / 12) as u8 ^ (noise(x, y) & 7) as u8,
                ((y / 7) as u8).wrapping_add(stripes),
                noise(x, y) as u8,
                255 - (x / 30) as u8,
            ])
        }));
        let fast = fit(image.clone(), 256).into_rgba8();
        let slow = image
            .resize_exact(256, 145, FilterType::Lanczos3)
            .into_rgba8();
        assert_eq!(fast.dimensions(), (256, 145));
        let total: u64 = fast
            .as_raw()
            .iter()
            .zip(slow.as_raw())
            .map(|(&a, &b)| u64::from(a.abs_diff(b)))
            .sum();
        let mean = total as f64 / fast.as_raw().len() as f64;
        assert!(mean < 1.0, "mean difference {mean}");
    }

    #[test]
    fn fit_never_upscales_and_keeps_the_aspect_ratio() {
        for ((width, height), expect) in [
            ((256, 256), (256, 256)),
            ((257, 256), (256, 255)),
            ((4096, 4095), (256, 256)),
            ((4096, 3), (256, 1)),
            ((3, 4096), (1, 256)),
            ((1, 1), (1, 1)),
            ((2000, 1000), (256, 128)),
            ((1600, 900), (256, 144)),
        ] {
            let image = DynamicImage::ImageLuma8(image::GrayImage::new(width, height));
            let fitted = fit(image, 256);
            assert_eq!(fitted.dimensions(), expect, "{width}x{height}");
        }
    }

    #[test]
    fn small_images_keep_their_pixels() {
        let image = picture(64, 32);
        let avatar = check(&encode(&image, ImageFormat::Png), (64, 32));
        let decoded = image::load_from_memory(&avatar.png).unwrap();
        assert_eq!(decoded.to_rgba8(), image.to_rgba8());
    }

    #[test]
    fn output_is_deterministic() {
        let input = encode(&picture(700, 400), ImageFormat::Jpeg);
        let a = normalize(&input, &AvatarLimits::default()).unwrap();
        let b = normalize(&input, &AvatarLimits::default()).unwrap();
        assert_eq!(a.png, b.png);
    }

    #[test]
    fn other_image_types_become_rgba8() {
        let grey = DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(500, 500, |x, _| {
            image::Luma([(x * 100) as u16])
        }));
        check(&encode(&grey, ImageFormat::Png), (256, 256));
        let rgb = DynamicImage::ImageRgb8(picture(20, 10).to_rgb8());
        check(&encode(&rgb, ImageFormat::Png), (20, 10));
    }

    #[test]
    fn exif_orientation_is_applied() {
        // Little-endian TIFF header, one IFD entry: orientation (0x0112), SHORT, 1, 6.
        let exif = [
            b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0,
            0,
        ];
        let rgb = picture(600, 300).to_rgb8();
        let mut jpeg = Vec::new();
        let mut encoder = JpegEncoder::new(&mut jpeg);
        encoder.set_exif_metadata(exif.to_vec()).unwrap();
        encoder
            .write_image(rgb.as_raw(), 600, 300, ExtendedColorType::Rgb8)
            .unwrap();
        check(&jpeg, (128, 256));
    }

    #[test]
    fn truncated_images_are_unreadable() {
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::WebP,
        ] {
            let whole = encode(&picture(300, 200), format);
            // The JPEG decoder is lenient: cut in the middle of the scan, the image
            // decodes with its missing part grey.
            let lens = match format {
                ImageFormat::Jpeg => vec![20, 100],
                _ => vec![20, 100, whole.len() / 2, whole.len() * 9 / 10],
            };
            for len in lens {
                let e = check_err(&whole[..len], "unreadable_image");
                let message = e.to_string();
                let ours = format!("avatar image is unreadable: {}", format_name(format));
                assert!(message.starts_with(&ours), "{message}");
                assert!(!message.ends_with('.'), "{message}");
            }
        }
    }

    #[test]
    fn corrupt_png_is_unreadable() {
        let mut png = encode(&picture(300, 200), ImageFormat::Png);
        let middle = png.len() / 2;
        png[middle..middle + 16].fill(0xA5);
        check_err(&png, "unreadable_image");
    }

    #[test]
    fn what_is_not_an_image() {
        check_err(b"", "not_an_image");
        check_err(b"hello, this is not a picture at all", "not_an_image");
        check_err(b"\x89PN", "not_an_image");
        let noise: Vec<u8> = (0u32..4096)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        check_err(&noise, "not_an_image");
        // Recognised by the format guess, but their decoders are not compiled in.
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&[0; 64]);
        check_err(&bmp, "not_an_image");
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&[0; 64]);
        check_err(&tiff, "not_an_image");
        check_err(b"MM\0*\0\0\0\x08\0\0\0\0\0\0\0\0", "not_an_image");
        check_err(b"qoif\0\0\0\x10\0\0\0\x10\x04\0", "not_an_image");
    }

    #[test]
    fn uploads_over_the_byte_limit_are_refused() {
        let limits = AvatarLimits {
            max_upload_bytes: 1000,
            ..AvatarLimits::default()
        };
        let png = encode(&picture(300, 300), ImageFormat::Png);
        assert!(png.len() > 1000);
        let e = normalize(&png, &limits).unwrap_err();
        assert!(matches!(e, AvatarError::TooLarge { max: 1000 }));
        assert_eq!(e.code(), "avatar_too_large");
        assert_eq!(e.to_string(), "avatar is over 1000 bytes");
        let e = check_err(&vec![0; 2 * 1024 * 1024 + 1], "avatar_too_large");
        assert_eq!(e.to_string(), "avatar is over 2097152 bytes");
    }

    #[test]
    fn huge_declared_dimensions_are_refused_from_the_header() {
        let start = Instant::now();
        let e = check_err(&png_declaring(100_000, 100_000), "image_too_big");
        assert!(start.elapsed() < Duration::from_secs(1));
        assert!(matches!(
            e,
            AvatarError::Dimensions {
                width: 100_000,
                height: 100_000,
                max: 4096
            }
        ));
        // Just the signature and IHDR: refused before the decoder looks for pixels.
        check_err(&png_declaring(100_000, 1)[..33], "image_too_big");
        check_err(&png_declaring(1, 4097), "image_too_big");
        // Inside the limit but lying about the pixels: decoding fails, cheaply.
        check_err(&png_declaring(4096, 4096), "unreadable_image");
    }

    #[test]
    fn oversized_sides_are_refused_in_every_format() {
        let limits = AvatarLimits {
            max_source_side: 100,
            ..AvatarLimits::default()
        };
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::WebP,
        ] {
            let input = encode(&picture(150, 20), format);
            let e = normalize(&input, &limits).unwrap_err();
            assert!(
                matches!(
                    e,
                    AvatarError::Dimensions {
                        width: 150,
                        height: 20,
                        max: 100
                    }
                ),
                "{format:?}: {e}"
            );
        }
    }

    #[test]
    fn pixels_over_the_allocation_limit_are_refused() {
        let limits = AvatarLimits {
            max_alloc_bytes: 100 * 100 * 4 - 1,
            ..AvatarLimits::default()
        };
        let input = encode(&picture(100, 100), ImageFormat::Png);
        let e = normalize(&input, &limits).unwrap_err();
        assert_eq!(e.code(), "image_too_big", "{e}");
    }

    #[test]
    fn animations_give_their_first_frame() {
        use image::codecs::gif::GifEncoder;
        use image::{Delay, Frame};
        let first = RgbaImage::from_pixel(300, 150, Rgba([255, 0, 0, 255]));
        let second = RgbaImage::from_pixel(300, 150, Rgba([0, 0, 255, 255]));
        let mut gif = Vec::new();
        {
            let mut encoder = GifEncoder::new(&mut gif);
            let delay = Delay::from_numer_denom_ms(100, 1);
            encoder
                .encode_frames([
                    Frame::from_parts(first, 0, 0, delay),
                    Frame::from_parts(second, 0, 0, delay),
                ])
                .unwrap();
        }
        let avatar = check(&gif, (256, 128));
        let decoded = image::load_from_memory(&avatar.png).unwrap().to_rgba8();
        assert_eq!(decoded.get_pixel(128, 64), &Rgba([255, 0, 0, 255]));
    }
}
