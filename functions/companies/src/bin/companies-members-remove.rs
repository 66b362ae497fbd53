fn main() -> Result<(), common::runtime::Error> {
    common::runtime::run_http(common::http_handler!(companies::members::remove))
}
