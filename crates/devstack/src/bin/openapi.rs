//! `make openapi`: writes docs/openapi.json from the handlers' annotations.

fn main() {
    let path = devstack::default_template().with_file_name("docs").join("openapi.json");
    std::fs::write(&path, devstack::openapi::to_json()).expect("writing docs/openapi.json");
    println!("wrote {}", path.display());
}
