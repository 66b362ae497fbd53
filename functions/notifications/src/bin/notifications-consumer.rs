fn main() -> Result<(), common::runtime::Error> {
    common::runtime::run_consumer(notifications::CONSUMER, notifications::handler)
}
