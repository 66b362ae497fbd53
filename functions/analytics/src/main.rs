fn main() -> Result<(), common::runtime::Error> {
    common::runtime::serve(analytics::FUNCTIONS)
}
