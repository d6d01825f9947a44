//! Pure, synchronous parsing stages: MIME (`mime`), HTML to quoted text (`html`), visible text
//! (`reply`), natural due dates (`dates`) and the tag language (`tags`).

pub mod dates;
pub mod html;
pub mod mime;
pub mod reply;
pub mod tags;
