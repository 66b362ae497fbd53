fn main() -> Result<(), common::runtime::Error> {
    common::runtime::run_s3(files::handler)
}
