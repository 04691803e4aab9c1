//! Logo checks (docs/customization.md, "Logo";
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/hosted-ui-classic-branding.html>):
//! PNG or JPEG, recognised by their first bytes rather than a file name, at most 100 KB. SVG is
//! refused: it can carry script.

pub const MAX_LOGO_BYTES: usize = 100 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Png,
    Jpeg,
}

impl ImageType {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
        }
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_SIGNATURE: &[u8] = &[0xFF, 0xD8, 0xFF];

/// The image type of `bytes`, if it is one we serve.
pub fn sniff(bytes: &[u8]) -> Option<ImageType> {
    if bytes.starts_with(PNG_SIGNATURE) {
        Some(ImageType::Png)
    } else if bytes.starts_with(JPEG_SIGNATURE) {
        Some(ImageType::Jpeg)
    } else {
        None
    }
}

pub fn check(bytes: &[u8]) -> Result<ImageType, String> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(format!(
            "a logo is at most 100 KB (this one is {} KB)",
            bytes.len().div_ceil(1024)
        ));
    }
    sniff(bytes).ok_or_else(|| {
        let start = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]).to_lowercase();
        if start.contains("<svg") || start.contains("<?xml") {
            "SVG logos are refused (they can carry script); use PNG or JPEG".to_owned()
        } else {
            "a logo must be a PNG or JPEG image (checked by its content)".to_owned()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_their_bytes() {
        assert_eq!(check(b"\x89PNG\r\n\x1a\nrest"), Ok(ImageType::Png));
        assert_eq!(check(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Ok(ImageType::Jpeg));
        assert!(
            check(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
                .unwrap_err()
                .contains("SVG")
        );
        assert!(check(b"GIF89a").unwrap_err().contains("PNG or JPEG"));
        let big = [PNG_SIGNATURE, &vec![0u8; MAX_LOGO_BYTES]].concat();
        assert!(check(&big).unwrap_err().contains("100 KB"));
    }
}
