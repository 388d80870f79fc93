use clap::Parser;

#[actix_web::main]
async fn main() {
    if let Err(error) = nru_helpdesk::cli::run(nru_helpdesk::cli::Cli::parse()).await {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
