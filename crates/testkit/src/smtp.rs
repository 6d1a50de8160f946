//! A real SMTP server for tests: `smtp_server.py` beside this crate's Cargo.toml, on Python's
//! `aiosmtpd` (Debian: `apt-get install python3-aiosmtpd`), on a loopback port of its own with a
//! temporary directory. Every message it accepts is kept as a JSON file there; the test reads them
//! back with [`TestSmtp::messages`] and decodes subject and bodies with [`ReceivedMail`]'s helpers.
//!
//! The server can be told to refuse (451, temporary) or reject (550, permanent) recipients while a
//! test runs, stopped and restarted on the same port, and can speak STARTTLS or implicit TLS with a
//! throwaway self-signed certificate (made with the `openssl` command) and require AUTH.

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tempfile::TempDir;

/// How long the server may take to write its `ready` file.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a start is tried again (a new port for a fresh start, the same after a restart).
const START_TRIES: usize = 5;

/// How the test server speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpMode {
    /// No TLS at all.
    #[default]
    Plain,
    /// STARTTLS offered and required before anything but EHLO, STARTTLS and QUIT.
    StartTls,
    /// SMTPS: TLS from the first byte.
    Implicit,
}

/// What [`TestSmtp::start_with`] starts.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    pub mode: SmtpMode,
    /// `(user, password)`: AUTH PLAIN/LOGIN required with exactly these.
    pub auth: Option<(String, String)>,
}

/// A running SMTP server for one test; stopped when dropped.
#[derive(Debug)]
pub struct TestSmtp {
    dir: TempDir,
    port: u16,
    mode: SmtpMode,
    auth: Option<(String, String)>,
    cert: Option<(PathBuf, PathBuf)>,
    child: Option<Child>,
}

/// A message as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (MAIL FROM).
    pub mail_from: String,
    /// The envelope recipients (RCPT TO) that were accepted.
    pub rcpt_tos: Vec<String>,
    /// The message as received (CRLF line ends), decoded as UTF-8 (Latin-1 if it was not UTF-8).
    pub raw: String,
}

/// The Python interpreter that has `aiosmtpd`: `$JIKIMI_TEST_PYTHON`, else `python3` on the PATH,
/// else `/usr/bin/python3` (a PATH may put another Python, e.g. pyenv's, before the system one
/// that Debian's package installs into). Panics if none has it.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = PYTHON.get_or_init(|| {
        let mut tried = Vec::new();
        let candidates = std::env::var_os("JIKIMI_TEST_PYTHON")
            .map(PathBuf::from)
            .into_iter()
            .chain([PathBuf::from("python3"), PathBuf::from("/usr/bin/python3")]);
        for candidate in candidates {
            let ok = Command::new(&candidate)
                .args(["-c", "import aiosmtpd.controller"])
                .stdin(Stdio::null())
                .output()
                .is_ok_and(|o| o.status.success());
            if ok {
                return Ok(candidate);
            }
            tried.push(candidate.display().to_string());
        }
        Err(tried.join(", "))
    });
    match found {
        Ok(p) => p,
        Err(tried) => panic!(
            "the SMTP test server needs Python 3 with the aiosmtpd module (tried {tried}): \
             apt-get install python3-aiosmtpd (or set JIKIMI_TEST_PYTHON)"
        ),
    }
}

impl TestSmtp {
    /// A plain server without AUTH.
    pub fn start() -> TestSmtp {
        TestSmtp::start_with(SmtpOptions::default())
    }

    /// A server as `opts` say, listening on a free loopback port once this returns.
    pub fn start_with(opts: SmtpOptions) -> TestSmtp {
        let dir = tempfile::Builder::new()
            .prefix("jikimi-smtp-")
            .tempdir()
            .expect("a temporary directory for the SMTP test server");
        let cert = match opts.mode {
            SmtpMode::Plain => None,
            SmtpMode::StartTls | SmtpMode::Implicit => Some(make_cert(dir.path())),
        };
        let mut smtp = TestSmtp {
            dir,
            port: 0,
            mode: opts.mode,
            auth: opts.auth,
            cert,
            child: None,
        };
        let mut errors = Vec::new();
        for _ in 0..START_TRIES {
            let port = free_port();
            match smtp.launch(port) {
                Ok(child) => {
                    smtp.port = port;
                    smtp.child = Some(child);
                    return smtp;
                }
                Err(e) => errors.push(e),
            }
        }
        panic!(
            "the SMTP test server did not start ({START_TRIES} tries):\n{}",
            errors.join("\n")
        );
    }

    /// The loopback port it listens on (the same after [`TestSmtp::restart`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's URL in lettre's `from_url` form: `smtp://127.0.0.1:PORT` (plain),
    /// `smtp://127.0.0.1:PORT?tls=required` (STARTTLS), `smtps://127.0.0.1:PORT` (implicit TLS);
    /// with AUTH the user goes before the host (`smtp://user@127.0.0.1:PORT`), the password never:
    /// see [`TestSmtp::password`]. The certificate names both `localhost` and `127.0.0.1`.
    pub fn url(&self) -> String {
        let user = self
            .auth
            .as_ref()
            .map(|(u, _)| format!("{}@", percent_encode(u)))
            .unwrap_or_default();
        let port = self.port;
        match self.mode {
            SmtpMode::Plain => format!("smtp://{user}127.0.0.1:{port}"),
            SmtpMode::StartTls => format!("smtp://{user}127.0.0.1:{port}?tls=required"),
            SmtpMode::Implicit => format!("smtps://{user}127.0.0.1:{port}"),
        }
    }

    /// The TLS mode it was started with.
    pub fn mode(&self) -> SmtpMode {
        self.mode
    }

    /// The AUTH user, if AUTH is required.
    pub fn user(&self) -> Option<&str> {
        self.auth.as_ref().map(|(u, _)| u.as_str())
    }

    /// The AUTH password, if AUTH is required.
    pub fn password(&self) -> Option<&str> {
        self.auth.as_ref().map(|(_, p)| p.as_str())
    }

    /// The self-signed certificate (PEM) a client must trust, in the TLS modes.
    pub fn ca_cert_pem_path(&self) -> Option<&Path> {
        self.cert.as_ref().map(|(c, _)| c.as_path())
    }

    /// The server's directory: `messages/`, and the `refuse` / `reject` switches.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Every message accepted so far (also by earlier runs on this directory), in arrival order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let Ok(entries) = fs::read_dir(self.dir().join("messages")) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files.iter().map(|f| read_mail(f)).collect()
    }

    /// Waits until at least `n` messages have arrived and returns them all; panics after
    /// `timeout`.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if Instant::now() >= deadline {
                panic!(
                    "the SMTP test server received {} message(s) in {timeout:?}, expected at least {n}",
                    messages.len()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// While on, every RCPT TO (and DATA) is answered `451 4.3.0 Try again later`.
    pub fn set_refusing(&self, on: bool) {
        self.switch("refuse", on);
    }

    /// While on, every RCPT TO (and DATA) is answered `550 5.1.1 Mailbox unavailable`.
    pub fn set_rejecting(&self, on: bool) {
        self.switch("reject", on);
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it. Messages stay.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let termed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if termed {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts it again (stopping it first if it runs) on the same port and directory.
    pub fn restart(&mut self) {
        self.stop();
        let mut errors = Vec::new();
        for _ in 0..START_TRIES {
            match self.launch(self.port) {
                Ok(child) => {
                    self.child = Some(child);
                    return;
                }
                Err(e) => errors.push(e),
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "the SMTP test server did not start again on port {} ({START_TRIES} tries):\n{}",
            self.port,
            errors.join("\n")
        );
    }

    fn switch(&self, name: &str, on: bool) {
        let path = self.dir().join(name);
        if on {
            fs::write(&path, b"").expect("the SMTP test server's switch file");
        } else if let Err(e) = fs::remove_file(&path) {
            assert!(
                e.kind() == std::io::ErrorKind::NotFound,
                "removing {}: {e}",
                path.display()
            );
        }
    }

    /// Spawns the server on `port` and waits for its `ready` file.
    fn launch(&self, port: u16) -> Result<Child, String> {
        let dir = self.dir();
        let ready = dir.join("ready");
        let _ = fs::remove_file(&ready);
        let log_path = dir.join("server.log");
        let log = fs::File::create(&log_path).map_err(|e| format!("server.log: {e}"))?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp_server.py");
        let mut cmd = Command::new(python());
        cmd.arg(&script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--dir")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        match self.mode {
            SmtpMode::Plain => {
                cmd.args(["--mode", "plain"]);
            }
            SmtpMode::StartTls => {
                cmd.args(["--mode", "starttls"]);
            }
            SmtpMode::Implicit => {
                cmd.args(["--mode", "implicit"]);
            }
        }
        if let Some((cert, key)) = &self.cert {
            cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
        }
        if let Some((user, password)) = &self.auth {
            cmd.args(["--auth-user", user, "--auth-password", password]);
        }
        let mut child = cmd.spawn().map_err(|e| {
            format!(
                "{} {}: {e}: apt-get install python3-aiosmtpd",
                python().display(),
                script.display()
            )
        })?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if ready.exists() {
                return Ok(child);
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("port {port}: exited with {status}: {}", log.trim()));
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                let log = fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!(
                    "port {port}: not ready within {READY_TIMEOUT:?}: {}",
                    log.trim()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestSmtp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A throwaway self-signed P-256 certificate for `localhost` and 127.0.0.1: (cert, key).
fn make_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let o = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdin(Stdio::null())
        .output()
        .expect("the openssl command makes the test certificate: apt-get install openssl");
    assert!(
        o.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (cert, key)
}

/// Percent-encodes all but RFC 3986's unreserved characters (for a URL's user part).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn read_mail(path: &Path) -> ReceivedMail {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    let field = |name: &str| v[name].as_str().unwrap_or_default().to_owned();
    ReceivedMail {
        mail_from: field("mail_from"),
        rcpt_tos: v["rcpt_tos"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        raw: field("data"),
    }
}

impl ReceivedMail {
    /// The first `name:` header of the message (case-insensitive), unfolded and trimmed, not
    /// decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = split_entity(&self.raw);
        header_of(&parse_headers(head), name).map(str::to_owned)
    }

    /// The Subject, with RFC 2047 encoded-words (B and Q) decoded; empty if there is none.
    pub fn subject(&self) -> String {
        self.header("subject")
            .map(|s| decode_rfc2047(&s))
            .unwrap_or_default()
    }

    /// The decoded `text/plain` part (the message itself if it is a single text/plain part),
    /// with `\n` line ends; empty if there is none.
    pub fn text_body(&self) -> String {
        find_text(&self.raw, "text/plain").unwrap_or_default()
    }

    /// The decoded `text/html` part, with `\n` line ends; empty if there is none.
    pub fn html_body(&self) -> String {
        find_text(&self.raw, "text/html").unwrap_or_default()
    }
}

/// An entity's header block and body, split at the first empty line.
fn split_entity(entity: &str) -> (&str, &str) {
    let mut offset = 0;
    for line in entity.split_inclusive('\n') {
        if line.trim_end_matches(['\r', '\n']).is_empty() {
            return (&entity[..offset], &entity[offset + line.len()..]);
        }
        offset += line.len();
    }
    (entity, "")
}

/// `(name, unfolded value)` pairs in order.
fn parse_headers(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.to_owned()));
        }
    }
    for (_, value) in &mut headers {
        *value = value.trim().to_owned();
    }
    headers
}

fn header_of<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A header value's first token (lower-cased) and its `; name=value` parameters (names
/// lower-cased, quotes removed).
fn value_and_params(value: &str) -> (String, BTreeMap<String, String>) {
    let mut pieces = Vec::new();
    let (mut current, mut quoted, mut escaped) = (String::new(), false, false);
    for c in value.chars() {
        if escaped {
            current.push(c);
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == ';' && !quoted {
            pieces.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    pieces.push(current);
    let mut pieces = pieces.into_iter();
    let first = pieces
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let params = pieces
        .filter_map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    (first, params)
}

/// The decoded body of the first `want` part (not an attachment) of `entity`, depth first.
fn find_text(entity: &str, want: &str) -> Option<String> {
    let (head, body) = split_entity(entity);
    let headers = parse_headers(head);
    let (content_type, params) = header_of(&headers, "content-type")
        .map(value_and_params)
        .unwrap_or_else(|| ("text/plain".to_owned(), BTreeMap::new()));
    if content_type.starts_with("multipart/") {
        let boundary = params.get("boundary")?;
        return multipart_parts(body, boundary)
            .into_iter()
            .find_map(|part| find_text(part, want));
    }
    let attachment = header_of(&headers, "content-disposition")
        .is_some_and(|d| value_and_params(d).0 == "attachment");
    if content_type != want || attachment {
        return None;
    }
    let encoding = header_of(&headers, "content-transfer-encoding")
        .map(|e| e.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let bytes = match encoding.as_str() {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            STANDARD
                .decode(compact.as_bytes())
                .unwrap_or_else(|_| body.as_bytes().to_vec())
        }
        "quoted-printable" => decode_quoted_printable(body),
        _ => body.as_bytes().to_vec(),
    };
    Some(String::from_utf8_lossy(&bytes).replace("\r\n", "\n"))
}

/// The parts of a multipart body between its `--boundary` lines (the line end before each
/// delimiter belongs to the delimiter).
fn multipart_parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    let close = format!("--{boundary}--");
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let bare = line.trim_end();
        if bare == delimiter || bare == close {
            if let Some(s) = start {
                let part = &body[s..offset];
                let part = part
                    .strip_suffix("\r\n")
                    .or_else(|| part.strip_suffix('\n'))
                    .unwrap_or(part);
                parts.push(part);
            }
            if bare == close {
                return parts;
            }
            start = Some(offset + line.len());
        }
        offset += line.len();
    }
    // No closing delimiter: take what follows the last one.
    if let Some(s) = start {
        parts.push(&body[s..]);
    }
    parts
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Quoted-printable (RFC 2045): `=XX`, soft line breaks, trailing blanks dropped.
fn decode_quoted_printable(body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut lines = body.split('\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.trim_end_matches('\r').trim_end_matches([' ', '\t']);
        let (line, soft) = match line.strip_suffix('=') {
            Some(l) => (l, true),
            None => (line, false),
        };
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'='
                && i + 2 < b.len()
                && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
            {
                out.push(h * 16 + l);
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        if !soft && lines.peek().is_some() {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// Decodes RFC 2047 encoded-words (`=?charset?B|Q?text?=`); whitespace between two adjacent
/// encoded-words is dropped and their bytes are joined before decoding (a character may be split
/// between them).
fn decode_rfc2047(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut pending_charset = String::new();
    let mut after_word = false;
    let mut rest = value;
    while let Some(i) = rest.find("=?") {
        let (before, from) = rest.split_at(i);
        if let Some((charset, bytes, len)) = encoded_word(from) {
            let only_blank = before.chars().all(char::is_whitespace);
            if !(after_word && only_blank) || charset != pending_charset {
                flush(&mut out, &mut pending, &pending_charset);
            }
            if !(after_word && only_blank) {
                out.push_str(before);
            }
            pending_charset = charset;
            pending.extend(bytes);
            after_word = true;
            rest = &from[len..];
        } else {
            flush(&mut out, &mut pending, &pending_charset);
            out.push_str(before);
            out.push_str("=?");
            after_word = false;
            rest = &from[2..];
        }
    }
    flush(&mut out, &mut pending, &pending_charset);
    out.push_str(rest);
    out
}

fn flush(out: &mut String, pending: &mut Vec<u8>, charset: &str) {
    if pending.is_empty() {
        return;
    }
    match charset {
        "iso-8859-1" | "latin1" | "latin-1" => out.extend(pending.iter().map(|&b| char::from(b))),
        _ => out.push_str(&String::from_utf8_lossy(pending)),
    }
    pending.clear();
}

/// The encoded-word at the start of `s`: (charset, decoded bytes, its length in `s`).
fn encoded_word(s: &str) -> Option<(String, Vec<u8>, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let text = &inner[..end];
    if text.contains(char::is_whitespace) || charset.is_empty() {
        return None;
    }
    let charset = charset
        .split('*')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = match encoding {
        "B" | "b" => STANDARD.decode(text).ok()?,
        "Q" | "q" => {
            let b = text.as_bytes();
            let mut out = Vec::with_capacity(b.len());
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b'_' => out.push(b' '),
                    b'=' if i + 2 < b.len() => {
                        out.push(hex(b[i + 1])? * 16 + hex(b[i + 2])?);
                        i += 2;
                    }
                    c => out.push(c),
                }
                i += 1;
            }
            out
        }
        _ => return None,
    };
    let len = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    Some((charset, bytes, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_decode() {
        assert_eq!(
            decode_rfc2047("=?UTF-8?B?7JWI64WV?= =?utf-8?b?7ZWY7IS47JqU?="),
            "안녕하세요"
        );
        assert_eq!(
            decode_rfc2047("Re: =?utf-8?q?caf=C3=A9_au_lait?= ok"),
            "Re: café au lait ok"
        );
        // A character split between two words.
        assert_eq!(
            decode_rfc2047("=?utf-8?Q?=EC=95?=\r\n =?utf-8?Q?=88?="),
            "안"
        );
        assert_eq!(decode_rfc2047("plain =? text"), "plain =? text");
        assert_eq!(decode_rfc2047("=?iso-8859-1?q?=E9?="), "é");
    }

    #[test]
    fn quoted_printable_decodes() {
        let body = "caf=C3=A9 =\r\nau lait  \r\n=3D=ec=95=88";
        assert_eq!(
            String::from_utf8(decode_quoted_printable(body)).unwrap(),
            "café au lait\r\n=안"
        );
    }

    #[test]
    fn single_part_and_nested_multipart() {
        let single = ReceivedMail {
            mail_from: String::new(),
            rcpt_tos: Vec::new(),
            raw: "Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\
                  Content-Transfer-Encoding: base64\r\n\r\n7JWI64WV\r\n"
                .to_owned(),
        };
        assert_eq!(single.text_body(), "안녕");
        assert_eq!(single.html_body(), "");
        let nested = ReceivedMail {
            raw: "Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n\
                  Content-Type: multipart/alternative; boundary=\"in;ner\"\r\n\r\n\
                  --in;ner\r\nContent-Type: text/plain\r\n\r\nhi\r\n--in;ner\r\n\
                  Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
                  <p>=EC=95=88</p>\r\n--in;ner--\r\n--outer\r\n\
                  Content-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nno\r\n--outer--\r\n"
                .to_owned(),
            ..single
        };
        assert_eq!(nested.text_body(), "hi");
        assert_eq!(nested.html_body(), "<p>안</p>");
        assert_eq!(
            nested.header("CONTENT-TYPE").as_deref(),
            Some("multipart/mixed; boundary=outer")
        );
    }
}
