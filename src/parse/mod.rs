//! Pure, synchronous parsing stages: MIME (`mime`), HTML to quoted text (`html`), visible text
//! (`reply`), natural due dates (`dates`) and the tag language (`tags`); `work` counts what they do
//! (for tests that check work stays linear).

pub mod dates;
pub mod html;
pub mod mime;
pub mod reply;
pub mod tags;
pub mod work;
