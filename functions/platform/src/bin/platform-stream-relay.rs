fn main() -> Result<(), common::runtime::Error> {
    common::runtime::run_stream_relay()
}
