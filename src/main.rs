fn main() -> std::process::ExitCode {
    labsh::cli::main()
}
