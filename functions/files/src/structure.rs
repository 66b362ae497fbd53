//! Whole-structure checks of an upload whose first bytes named an allowed type: a PDF must
//! load as a PDF document with at least one page, a DOCX must be an OOXML package with a Word
//! main document, a DOC a compound file with a WordDocument stream, an image must decode.
//! Untrusted input: every reader here is bounded (decompressed bytes, entries, pixels,
//! memory), and the caller bounds the time ([`CHECK_SECS`]).

use std::io::{Cursor, Read};

use crate::rules::FileType;

/// The longest a structure check may take; a file that takes longer is refused.
pub const CHECK_SECS: u64 = 20;
/// At most this many bytes are decompressed from any one stream of a PDF or part of a DOCX.
pub const EXPANDED_MAX: u64 = 64 * 1024 * 1024;
/// A DOCX with more parts than this is no resume.
pub const PARTS_MAX: usize = 2_000;
/// Images at most this wide and high (an avatar is shown at a few hundred pixels).
pub const PIXELS_MAX: u32 = 8_000;
/// Memory an image decoder may allocate.
pub const IMAGE_ALLOC_MAX: u64 = 256 * 1024 * 1024;

/// `Ok` when `bytes` is a whole, readable file of type `t`; else why not, for the uploader.
pub fn verify(t: FileType, bytes: &[u8]) -> Result<(), String> {
    match t {
        FileType::Pdf => pdf(bytes),
        FileType::Docx => docx(bytes),
        FileType::Doc => doc(bytes),
        FileType::Jpeg => image(bytes, image::ImageFormat::Jpeg),
        FileType::Png => image(bytes, image::ImageFormat::Png),
        FileType::Webp => image(bytes, image::ImageFormat::WebP),
        // Never allowed: sniffed only to name them in a refusal.
        FileType::Gif | FileType::Zip => Err(format!("the file is {}", t.name())),
    }
}

fn broken(t: FileType) -> String {
    format!("the file starts like {} but is damaged or incomplete", t.name())
}

fn pdf(bytes: &[u8]) -> Result<(), String> {
    let options = lopdf::LoadOptions::with_max_decompressed_size(EXPANDED_MAX as usize);
    let doc = lopdf::Document::load_mem_with_options(bytes, options).map_err(|e| {
        tracing::info!(error = %e, "a PDF did not load");
        broken(FileType::Pdf)
    })?;
    // Viewers open a PDF whose table offsets are slightly off, but one whose table had to be
    // rebuilt by scanning is cut short or damaged: objects may be missing.
    if matches!(doc.xref_recovery, Some(lopdf::xref::XrefRecovery::Reconstructed)) {
        return Err(broken(FileType::Pdf));
    }
    if doc.get_pages().is_empty() {
        return Err("the PDF document has no pages".into());
    }
    Ok(())
}

/// Reads one part of a package to its end (which checks its CRC), at most `EXPANDED_MAX`.
fn read_part<R: Read + std::io::Seek>(zip: &mut zip::ZipArchive<R>, name: &str) -> Result<Vec<u8>, String> {
    let part = zip.by_name(name).map_err(|_| format!("the Word document has no {name}"))?;
    let mut out = Vec::new();
    part.take(EXPANDED_MAX + 1)
        .read_to_end(&mut out)
        .map_err(|_| broken(FileType::Docx))?;
    if out.len() as u64 > EXPANDED_MAX {
        return Err("the Word document expands to more than 64 MB".into());
    }
    Ok(out)
}

fn docx(bytes: &[u8]) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| broken(FileType::Docx))?;
    if zip.len() > PARTS_MAX {
        return Err(format!("the Word document has more than {PARTS_MAX} parts"));
    }
    let types = read_part(&mut zip, "[Content_Types].xml")?;
    let types = String::from_utf8_lossy(&types);
    if !types.contains("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml") {
        return Err("the file is an Office package but not a Word document".into());
    }
    let main = read_part(&mut zip, "word/document.xml")?;
    if !String::from_utf8_lossy(&main[..main.len().min(4096)]).contains("document") {
        return Err(broken(FileType::Docx));
    }
    Ok(())
}

fn doc(bytes: &[u8]) -> Result<(), String> {
    let file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|_| broken(FileType::Doc))?;
    if !file.is_stream("/WordDocument") {
        return Err("the file is an Office 97-2003 file but not a Word document".into());
    }
    Ok(())
}

fn image(bytes: &[u8], format: image::ImageFormat) -> Result<(), String> {
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(PIXELS_MAX);
    limits.max_image_height = Some(PIXELS_MAX);
    limits.max_alloc = Some(IMAGE_ALLOC_MAX);
    reader.limits(limits);
    match reader.decode() {
        Ok(_) => Ok(()),
        Err(image::ImageError::Limits(_)) => Err(format!("the image is larger than {PIXELS_MAX}x{PIXELS_MAX} pixels")),
        Err(e) => {
            tracing::info!(error = %e, "an image did not decode");
            Err(broken(match format {
                image::ImageFormat::Jpeg => FileType::Jpeg,
                image::ImageFormat::Png => FileType::Png,
                _ => FileType::Webp,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples;

    #[test]
    fn whole_files_pass() {
        assert_eq!(verify(FileType::Pdf, &samples::pdf()), Ok(()));
        assert_eq!(verify(FileType::Docx, &samples::docx()), Ok(()));
        assert_eq!(verify(FileType::Png, &samples::png()), Ok(()));
    }

    #[test]
    fn files_that_only_start_right_are_refused() {
        let fake_pdf = b"%PDF-1.4\nthis is no PDF\n%%EOF\n";
        assert!(verify(FileType::Pdf, fake_pdf).unwrap_err().contains("damaged"));
        let mut cut = samples::pdf();
        cut.truncate(cut.len() / 2);
        assert!(verify(FileType::Pdf, &cut).is_err(), "a cut PDF");
        let mut png = samples::png();
        png.truncate(png.len() - 20);
        assert!(verify(FileType::Png, &png).unwrap_err().contains("damaged"));
        assert!(verify(FileType::Jpeg, &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).is_err());
        assert!(verify(FileType::Webp, b"RIFF\x10\x00\x00\x00WEBPVP8 ").is_err());
        let mut docx = samples::docx();
        docx.truncate(docx.len() - 30);
        assert!(verify(FileType::Docx, &docx).is_err(), "a cut package");
        assert!(verify(FileType::Doc, &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0]).is_err());
    }

    #[test]
    fn a_package_that_is_not_word_is_refused() {
        let sheet = samples::zip(&[
            (
                "[Content_Types].xml",
                b"<Types><Override ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/></Types>"
                    .as_slice(),
            ),
            ("xl/workbook.xml", b"<workbook/>".as_slice()),
        ]);
        assert!(verify(FileType::Docx, &sheet).unwrap_err().contains("not a Word document"));
    }

    #[test]
    fn a_part_that_expands_too_far_is_refused() {
        let zeros = vec![0u8; (EXPANDED_MAX + 1) as usize];
        let bomb = samples::zip(&[
            ("[Content_Types].xml", samples::CONTENT_TYPES.as_bytes()),
            ("word/document.xml", zeros.as_slice()),
        ]);
        assert!(bomb.len() < 1024 * 1024, "deflate makes it small: {}", bomb.len());
        assert!(verify(FileType::Docx, &bomb).unwrap_err().contains("64 MB"));
    }

    #[test]
    fn an_image_too_large_to_show_is_refused() {
        assert!(verify(FileType::Png, &samples::png_of(9_000, 1)).unwrap_err().contains("pixels"));
    }
}
