//! Pure, synchronous parsing stages: MIME (`mime`), HTML to quoted text (`html`), visible text
//! (`reply`), natural due dates (`dates`), the tag language (`tags`) and the parts a
//! thread-starting message lacks (`nudges`); `work` counts what they do
//! (for tests that check work stays linear).

pub mod dates;
pub mod html;
pub mod mime;
pub mod nudges;
pub mod reply;
pub mod tags;
pub mod work;
