fn main() -> Result<(), common::runtime::Error> {
    common::runtime::run_scheduled(jobs::expiry::handler)
}
