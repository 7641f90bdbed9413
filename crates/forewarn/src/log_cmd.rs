//! `forewarn log`: the transparency log from the command line — its checkpoint and key, a full verification of
//! the stored log, receipts, and an offline check of a receipt that needs nothing but the receipt and the key.

use std::io::IsTerminal;
use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use clap::Subcommand;
use forewarn_core::Role;
use forewarn_tlog::note::VerifierKey;
use forewarn_tlog::receipt::Receipt;
use serde_json::json;

use crate::context::Globals;
use crate::errors::{CliError, CliResult};
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Print the latest signed checkpoint (C2SP tlog-checkpoint).
    Checkpoint,
    /// Print the log's verifier key: what partners and auditors check checkpoints and receipts with.
    Key,
    /// Recompute the tree from the stored events and check it against the stored tiles and every signed
    /// checkpoint; name each entry that was altered, deleted, inserted or reordered (auditor role).
    Verify,
    /// Print the receipt for one entry: its event, salt and inclusion proof (auditor role).
    Prove {
        #[arg(long)]
        entry: u64,
    },
    /// Check a receipt offline, with nothing but the receipt (JSON, as served at /api/v1/receipts/{entry}) and the
    /// log's verifier key (the key text, or a file holding it).
    VerifyReceipt {
        file: PathBuf,
        #[arg(long)]
        key: String,
    },
}

pub async fn log(g: &Globals, command: LogCommand) -> CliResult {
    match command {
        LogCommand::VerifyReceipt { file, key } => verify_receipt(g, &file, &key),
        LogCommand::Checkpoint => {
            let store = g.open().await?;
            let mut conn = store.conn().await?;
            let Some((size, note)) = forewarn_store::log::latest_checkpoint(&mut conn).await? else {
                return Err(CliError::user("the log has no checkpoint yet: the server signs the first when it starts"));
            };
            if g.json {
                print_json(&json!({"size": size, "checkpoint": note}));
            } else {
                print!("{note}");
            }
            Ok(())
        }
        LogCommand::Key => {
            let store = g.open().await?;
            let key = signer(&store).await?.verifier();
            if g.json {
                print_json(&json!({"key": key.to_text(), "origin": key.name()}));
            } else {
                println!("{}", key.to_text());
            }
            Ok(())
        }
        LogCommand::Verify => {
            let store = g.open().await?;
            g.actor(&store, Role::Auditor).await?;
            let key = signer(&store).await?.verifier();
            let mut conn = store.conn().await?;
            let tty = std::io::stderr().is_terminal() && !g.json;
            let v = forewarn_store::log::verify(&mut conn, &key, |n| {
                if tty {
                    eprint!("\rchecked {n} entries");
                }
            })
            .await?;
            if tty {
                eprintln!();
            }
            let problems: Vec<String> = v.problems.iter().map(ToString::to_string).collect();
            if g.json {
                print_json(&json!({"entries": v.entries, "checkpoints": v.checkpoints, "problems": problems}));
            } else if problems.is_empty() {
                let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
                println!(
                    "The log verifies: {}, {}.",
                    plural(v.entries, "entry", "entries"),
                    plural(v.checkpoints as u64, "signed checkpoint", "signed checkpoints")
                );
            } else {
                for p in &problems {
                    println!("{p}");
                }
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(CliError::Internal(format!("the log does not verify: {} problem(s)", problems.len())))
            }
        }
        LogCommand::Prove { entry } => {
            let store = g.open().await?;
            g.actor(&store, Role::Auditor).await?;
            let key = signer(&store).await?.verifier();
            let mut conn = store.conn().await?;
            let body = forewarn_server::log_api::receipt_for(
                &mut conn,
                &forewarn_store::log::TileCache::default(),
                entry,
                None,
                &key,
            )
            .await
            .map_err(|_| CliError::user(format!("entry {entry} is not in the log (yet)")))?;
            print_json(&serde_json::to_value(&body).map_err(|e| CliError::Internal(e.to_string()))?);
            Ok(())
        }
    }
}

async fn signer(store: &forewarn_store::Store) -> CliResult<forewarn_tlog::note::SignerKey> {
    let mut conn = store.conn().await?;
    forewarn_store::log::stored_signer(&mut conn, store)
        .await?
        .ok_or_else(|| CliError::user("the log has no key yet: it is made when the server first starts"))
}

fn verify_receipt(g: &Globals, file: &std::path::Path, key: &str) -> CliResult {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| CliError::user(format!("cannot read {}: {e}", p.display())))
    };
    let key_text = if std::path::Path::new(key).is_file() { read(std::path::Path::new(key))? } else { key.to_owned() };
    let key = VerifierKey::parse(&key_text).map_err(|e| CliError::user(format!("--key: {e}")))?;
    let receipt: forewarn_server::dto::ReceiptBody = serde_json::from_str(&read(file)?).map_err(|e| {
        CliError::user(format!("{} is not a receipt (JSON as served at /api/v1/receipts/ENTRY): {e}", file.display()))
    })?;
    let salt = STANDARD.decode(&receipt.salt).map_err(|_| CliError::user("the receipt's salt is not base64"))?;
    let commitment = forewarn_tlog::commitment::commit(&salt, receipt.body.as_bytes());
    if STANDARD.encode(commitment) != receipt.commitment {
        return Err(CliError::user("the receipt's event does not match its commitment: the body or salt was altered"));
    }
    let proof = Receipt::parse(&receipt.proof).map_err(|e| CliError::user(format!("the receipt's proof: {e}")))?;
    if proof.index != receipt.entry {
        return Err(CliError::user(format!(
            "the proof is for entry {}, the receipt says {}",
            proof.index, receipt.entry
        )));
    }
    let cp =
        proof.verify(&commitment, &key).map_err(|e| CliError::user(format!("the receipt does not verify: {e}")))?;
    // Only `body` is proven; the receipt's other fields are conveniences and must agree with it.
    let event: serde_json::Value =
        serde_json::from_str(&receipt.body).map_err(|_| CliError::user("the receipt's event body is not JSON"))?;
    let kind = event.get("type").and_then(serde_json::Value::as_str).unwrap_or_default();
    if receipt.event != event || receipt.kind != kind {
        return Err(CliError::user(
            "the receipt's readable fields (event, kind) differ from the committed event body: they were altered",
        ));
    }
    if g.json {
        print_json(
            &json!({"verified": true, "entry": receipt.entry, "origin": cp.origin, "checkpoint_size": cp.size, "event": event}),
        );
    } else {
        println!(
            "OK: entry {} is in the log {} at checkpoint size {}, signed by its key. The event:\n{}",
            receipt.entry,
            cp.origin,
            cp.size,
            serde_json::to_string_pretty(&event).unwrap_or_default()
        );
    }
    Ok(())
}
