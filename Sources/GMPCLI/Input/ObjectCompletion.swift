import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PostgresClient

/// Shell completion of the ids gmp prints: lots (with their check character), donors,
/// material lots, units, shipments and equipment, read from the database the command line would use. Never asks for a
/// password and never fails: with no server, no login or no grant, nothing is offered.
enum ObjectCompletion {
    static let lots = CompletionKind.custom { words, _, prefix in
        complete(words: words, prefix: prefix,
                 "SELECT din || check_character AS id FROM gmp.lot WHERE din || check_character LIKE \(prefix.uppercased()) || '%' ORDER BY din DESC LIMIT 500")
    }

    static let donors = CompletionKind.custom { words, _, prefix in
        complete(words: words, prefix: prefix,
                 "SELECT code AS id FROM gmp.donor WHERE code LIKE \(prefix.uppercased()) || '%' ORDER BY code DESC LIMIT 500")
    }

    static let materialLots = CompletionKind.custom { words, _, prefix in
        complete(words: words, prefix: prefix,
                 "SELECT id FROM gmp.material_lot WHERE id LIKE \(prefix.uppercased()) || '%' ORDER BY id DESC LIMIT 500")
    }

    static let units = CompletionKind.custom { words, _, prefix in
        complete(words: words, prefix: prefix,
                 "SELECT id FROM gmp.unit WHERE id LIKE \(prefix.uppercased()) || '%' ORDER BY id DESC LIMIT 500")
    }

    static let shipments = CompletionKind.custom { words, _, prefix in
        complete(words: words, prefix: prefix,
                 "SELECT id FROM gmp.shipment WHERE id LIKE \(prefix.uppercased()) || '%' ORDER BY id DESC LIMIT 500")
    }

    static let equipment = CompletionKind.custom { words, _, prefix in
        complete(words: words, prefix: prefix,
                 "SELECT id FROM gmp.equipment WHERE id LIKE \(prefix.uppercased()) || '%' ORDER BY id LIMIT 500")
    }

    /// A unit or a lot (with its check character), for commands that take either.
    static let unitsOrLots = CompletionKind.custom { words, _, prefix in
        complete(words: words, prefix: prefix, """
            SELECT id FROM (SELECT id FROM gmp.unit UNION ALL SELECT din || check_character FROM gmp.lot) AS ids
             WHERE id LIKE \(prefix.uppercased()) || '%' ORDER BY id DESC LIMIT 500
            """)
    }

    /// Runs `query` with the global options found among the words typed so far.
    private static func complete(words: [String], prefix: String, _ query: SQLQuery) -> [String] {
        do {
            let options = try GlobalOptions.parse(globalOptions(in: words))
            var context = try CommandContext(options: options, commandName: "gmp completion")
            context.promptsForPassword = false
            let connection = try context.connect(startingEmbedded: false, recordingFailedLogins: false)
            return try connection.query(query).map { try $0.decode("id") }
        } catch {
            return []
        }
    }

    /// The words that set the server, login or configuration file (`-d`, `-U`, `--config`).
    static func globalOptions(in words: [String]) -> [String] {
        let valued: Set<String> = ["-d", "--database", "-U", "--user", "--config"]
        var found: [String] = []
        var index = 0
        while index < words.count {
            let word = words[index]
            if valued.contains(word), index + 1 < words.count {
                found += [word, words[index + 1]]
                index += 2
                continue
            }
            if let name = word.split(separator: "=", maxSplits: 1).first, word.contains("="), valued.contains(String(name)) {
                found.append(word)
            }
            index += 1
        }
        return found
    }
}
