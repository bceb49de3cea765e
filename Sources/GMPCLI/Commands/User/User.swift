import ArgumentParser
import GMPRules

/// `gmp user`: personal accounts and their roles.
struct User: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage personal accounts and their roles (administrators).",
        discussion: """
            Every person has their own account, a PostgreSQL login, never shared and \
            never reused: accounts are disabled, not deleted. The person's full name is \
            printed in every signature they make.

            Roles:
            \(Role.allCases.map { "  \($0.rawValue.padding(9))\($0.summary)" }.joined(separator: "\n"))

            Passwords: at least 12 printable ASCII characters, not containing the \
            account id; they expire after 90 days. A password set by an administrator is \
            temporary (7 days) and must be changed with 'gmp user passwd' before any \
            other work.

            Dual control: a role an administrator grants is a proposal until a second \
            administrator approves it ('gmp user approve'); a password an administrator \
            sets (new account, reset) keeps the account from GMP work until a QA person \
            or director confirms its owner ('gmp user confirm'). 'gmp user pending' \
            lists both; 'gmp audit alerts' flags every reset and role change.

            Every change needs --reason and is recorded in the audit trail.
            """,
        subcommands: [UserList.self, UserShow.self, UserAdd.self, UserDisable.self, UserEnable.self,
                      UserGrant.self, UserApprove.self, UserDecline.self, UserRevoke.self, UserPending.self,
                      UserConfirm.self, UserPasswd.self]
    )
}

extension Role: ExpressibleByArgument {}

extension String {
    /// Left-aligned in a column of `width` characters (at least one space after).
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
