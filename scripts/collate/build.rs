//! Embeds every template of `templates/` into the binary (minijinja-embed), so that collate's
//! sentences are edited in their files and still travel inside the program.

fn main() {
    minijinja_embed::embed_templates!("templates");
}
