#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    Validate,
}
pub fn run(_c: &PolicyCommand, _j: bool) -> anyhow::Result<()> {
    Ok(())
}
