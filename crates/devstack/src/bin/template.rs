//! `make template`: rewrites template.yaml's generated part (the HTTP functions) from the
//! crates' `functions!` rows.

fn main() {
    let path = devstack::default_template();
    let current = std::fs::read_to_string(&path).expect("reading template.yaml");
    match devstack::generate::template(&current) {
        Ok(next) => {
            std::fs::write(&path, next).expect("writing template.yaml");
            println!("wrote {}", path.display());
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
