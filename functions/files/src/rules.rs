//! File rules: the two kinds of upload, what each accepts, how big, where objects live, and
//! what a file really is (from its first bytes, never from its name or declared type; its
//! whole structure is read by [`crate::structure`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Bytes read from the start of an object to tell its type.
pub const SNIFF_BYTES: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Resume,
    Avatar,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Resume => "resume",
            Kind::Avatar => "avatar",
        }
    }
    pub fn parse(raw: &str) -> Option<Kind> {
        match raw {
            "resume" => Some(Kind::Resume),
            "avatar" => Some(Kind::Avatar),
            _ => None,
        }
    }
    pub fn max_bytes(self) -> u64 {
        match self {
            Kind::Resume => 10 * 1024 * 1024,
            Kind::Avatar => 5 * 1024 * 1024,
        }
    }
    pub fn allowed(self) -> &'static [FileType] {
        match self {
            Kind::Resume => &[FileType::Pdf, FileType::Doc, FileType::Docx],
            Kind::Avatar => &[FileType::Jpeg, FileType::Png, FileType::Webp],
        }
    }
    pub fn describe_allowed(self) -> &'static str {
        match self {
            Kind::Resume => "a PDF, DOC or DOCX file",
            Kind::Avatar => "a JPEG, PNG or WebP image",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Pdf,
    Doc,
    Docx,
    Jpeg,
    Png,
    Webp,
    Gif,
    Zip,
}

impl FileType {
    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Doc => "application/msword",
            FileType::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Webp => "image/webp",
            FileType::Gif => "image/gif",
            FileType::Zip => "application/zip",
        }
    }
    /// The type whose media type is exactly `raw` (lower case, no parameters): the upload is
    /// presigned with it, and S3 compares it byte for byte with the upload's header.
    pub fn from_content_type(raw: &str) -> Option<FileType> {
        let ct = raw;
        [
            FileType::Pdf,
            FileType::Doc,
            FileType::Docx,
            FileType::Jpeg,
            FileType::Png,
            FileType::Webp,
        ]
        .into_iter()
        .find(|t| t.content_type() == ct)
    }
    pub fn extension(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Doc => "doc",
            FileType::Docx => "docx",
            FileType::Jpeg => "jpg",
            FileType::Png => "png",
            FileType::Webp => "webp",
            FileType::Gif => "gif",
            FileType::Zip => "zip",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            FileType::Pdf => "a PDF document",
            FileType::Doc => "a Word 97-2003 document",
            FileType::Docx => "a Word document",
            FileType::Jpeg => "a JPEG image",
            FileType::Png => "a PNG image",
            FileType::Webp => "a WebP image",
            FileType::Gif => "a GIF image",
            FileType::Zip => "a ZIP archive",
        }
    }
}

/// The type of a file from its first bytes (magic numbers). A ZIP is a DOCX only when its
/// entries name the Word parts.
pub fn sniff(head: &[u8]) -> Option<FileType> {
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(b"%PDF-") {
        Some(FileType::Pdf)
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Some(FileType::Doc)
    } else if starts(b"PK\x03\x04") {
        let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
        if has(b"word/") || has(b"[Content_Types].xml") {
            Some(FileType::Docx)
        } else {
            Some(FileType::Zip)
        }
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        Some(FileType::Jpeg)
    } else if starts(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(FileType::Png)
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(FileType::Webp)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some(FileType::Gif)
    } else {
        None
    }
}

/// Where an upload lands (`incoming/`, validated by the S3-triggered function; left-overs
/// expire by the bucket's lifecycle rule) and where a validated file lives.
pub fn incoming_key(kind: Kind, user_id: &str, upload_id: &str) -> String {
    format!("incoming/{}/{user_id}/{upload_id}", kind.as_str())
}
pub fn stored_key(kind: Kind, user_id: &str, upload_id: &str, t: FileType) -> String {
    format!("files/{}/{user_id}/{upload_id}.{}", kind.as_str(), t.extension())
}

/// `(kind, user id, upload id)` of an `incoming/` key; `None` for anything else.
pub fn parse_incoming(key: &str) -> Option<(Kind, String, String)> {
    let mut parts = key.strip_prefix("incoming/")?.split('/');
    let kind = Kind::parse(parts.next()?)?;
    let user = parts.next()?;
    let upload = parts.next()?;
    if parts.next().is_some() || ulid::Ulid::from_string(user).is_err() || ulid::Ulid::from_string(upload).is_err() {
        return None;
    }
    Some((kind, user.to_string(), upload.to_string()))
}

/// Why an uploaded object is refused, or the type it really is.
pub fn judge(kind: Kind, size: u64, head: &[u8]) -> Result<FileType, String> {
    if size == 0 {
        return Err("the file is empty".into());
    }
    if size > kind.max_bytes() {
        return Err(format!(
            "the file is {:.1} MB; at most {} MB are accepted",
            size as f64 / 1_048_576.0,
            kind.max_bytes() / 1_048_576
        ));
    }
    match sniff(head) {
        Some(t) if kind.allowed().contains(&t) => Ok(t),
        Some(t) => Err(format!("the file is {}, not {}", t.name(), kind.describe_allowed())),
        None => Err(format!("the file is not {}", kind.describe_allowed())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];

    #[test]
    fn sniffs_by_content_not_name() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(FileType::Pdf));
        assert_eq!(sniff(PNG), Some(FileType::Png));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(FileType::Jpeg));
        assert_eq!(sniff(b"RIFF\x10\x00\x00\x00WEBPVP8 "), Some(FileType::Webp));
        assert_eq!(sniff(b"PK\x03\x04....[Content_Types].xml"), Some(FileType::Docx));
        assert_eq!(sniff(b"PK\x03\x04....notes.txt"), Some(FileType::Zip));
        assert_eq!(sniff(b"MZ\x90\x00"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn judges_type_and_size() {
        assert_eq!(judge(Kind::Resume, 100, b"%PDF-1.4"), Ok(FileType::Pdf));
        let e = judge(Kind::Resume, 100, PNG).unwrap_err();
        assert!(e.contains("PNG") && e.contains("PDF"), "{e}");
        assert!(judge(Kind::Resume, 11 * 1024 * 1024, b"%PDF-1.4").unwrap_err().contains("10 MB"));
        assert!(judge(Kind::Avatar, 0, PNG).is_err());
        assert_eq!(judge(Kind::Avatar, 100, PNG), Ok(FileType::Png));
        assert!(judge(Kind::Avatar, 100, b"%PDF-").is_err());
    }

    #[test]
    fn keys() {
        let (u, up) = (ulid::Ulid::new().to_string(), ulid::Ulid::new().to_string());
        let k = incoming_key(Kind::Avatar, &u, &up);
        assert_eq!(parse_incoming(&k), Some((Kind::Avatar, u.clone(), up.clone())));
        assert_eq!(parse_incoming("incoming/other/x/y"), None);
        assert_eq!(parse_incoming(&format!("files/resume/{u}/{up}.pdf")), None);
        assert_eq!(parse_incoming(&format!("{k}/extra")), None);
        assert_eq!(FileType::from_content_type("application/pdf"), Some(FileType::Pdf));
        for inexact in [
            "Application/PDF",
            "application/pdf; charset=binary",
            " application/pdf",
            "image/gif",
        ] {
            assert_eq!(FileType::from_content_type(inexact), None, "{inexact}");
        }
    }
}
