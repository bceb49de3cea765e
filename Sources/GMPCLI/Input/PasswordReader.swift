#if canImport(Glibc)
import Glibc
#endif

/// Reads passwords: typed on the terminal with echo off, or (`--password-stdin`) the
/// first line of standard input, for scripts.
///
/// Never from an environment variable, a file or a cache: a signature needs the
/// password entered at the moment of signing (21 CFR 11.200).
enum PasswordReader {
    /// Asks on the controlling terminal; nil when there is none (a script or CI job).
    static func prompt(_ text: String) throws -> String? {
        let tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard tty >= 0 else { return nil }
        defer { close(tty) }
        var original = termios()
        guard tcgetattr(tty, &original) == 0 else { return nil }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        silent.c_lflag |= tcflag_t(ECHONL)
        write(tty, text)
        _ = tcsetattr(tty, TCSAFLUSH, &silent)
        defer { _ = tcsetattr(tty, TCSAFLUSH, &original) }
        return readLine(from: tty)
    }

    /// The first line of standard input, without its line ending.
    static func fromStandardInput() throws -> String {
        guard let line = readLine(from: 0) else {
            throw Failure(exitCode: .usage, problem: "--password-stdin was given but standard input is empty",
                          fix: "pipe the password in, e.g. printf '%s\\n' \"$PASSWORD\" | gmp …")
        }
        return line
    }

    /// The password for a signature: from stdin when asked, else from the terminal,
    /// after showing there what is being signed (21 CFR 11.50: the signer sees the
    /// record, the meaning and their statement before signing).
    static func forSignature(account: String, signing intent: SigningIntent, fromStandardInput: Bool) throws -> String {
        if fromStandardInput { return try self.fromStandardInput() }
        guard let password = try prompt(intent.summary(account: account) + "Password for \(account) (signing): ") else {
            throw Failure(exitCode: .usage, problem: "signing needs your password and there is no terminal to ask on",
                          fix: "run on a terminal, or pass --password-stdin and pipe the password in")
        }
        return password
    }

    /// Your current password, to prove it is you before a change (not a signature).
    static func currentPassword(account: String, fromStandardInput: Bool) throws -> String {
        if fromStandardInput { return try self.fromStandardInput() }
        guard let password = try prompt("Current password for \(account): ") else {
            throw Failure(exitCode: .usage, problem: "changing your password needs your current one and there is no terminal to ask on",
                          fix: "run on a terminal, or pass --password-stdin with the current and new password on two lines")
        }
        return password
    }

    private static func write(_ descriptor: Int32, _ text: String) {
        var text = text
        text.withUTF8 { _ = Glibc.write(descriptor, $0.baseAddress, $0.count) }
    }

    /// Reads up to a newline (or end of input) byte by byte, so that nothing after the
    /// line is consumed from a shared stdin.
    private static func readLine(from descriptor: Int32) -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        var sawAnything = false
        while read(descriptor, &byte, 1) == 1 {
            sawAnything = true
            if byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
        }
        guard sawAnything else { return nil }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
