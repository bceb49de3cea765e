import ArgumentParser

/// A command whose routed line gmp reads itself, without swift-argument-parser (start-up,
/// issue 18).
///
/// The parser's first use in a process costs about 12 M instructions whatever the line:
/// the Swift runtime's first look at its generic types, the conformance scans their
/// requirements need, and `Mirror` over every property wrapper to build the argument
/// definitions (docs/benchmarks.md, "The argument parser's share of a routed line"). The
/// parse proper is a small part of it. A command adopting this protocol states its options
/// once more, in `directArguments`: each spelling, what it takes, the property it sets.
/// `LeafRoute` reads a line with that table alone, sets the properties through their
/// wrappers' setters (a command's `init()` leaves its wrappers as definitions, without
/// `Mirror`), runs the `validate()`s the parser would run, and gives the full parser every
/// line it is not sure of (`DirectArguments.parse`), so that help, errors and completions
/// stay the parser's.
///
/// The table is a twin of the property declarations: `DirectParseTests` checks that it
/// names exactly the options, flags and arguments the parser knows for the command, and
/// that generated lines give the parser's values or go to it.
protocol DirectlyParsed: GMPCommand {
    var options: GlobalOptions { get set }
    /// The command's options, flags and arguments, groups included, in declaration order.
    static var directArguments: DirectArguments<Self> { get }
}

extension DirectlyParsed {
    /// The command a line (after the command words) gives, or nil for the full parser.
    static func parseDirectly(_ line: [String]) -> ParsableCommand? {
        directArguments.parse(line)
    }
}

/// One option, flag or positional argument as `DirectArguments` reads it.
struct DirectArgument: Equatable, Sendable {
    /// What a spelling takes.
    enum Kind: Equatable, Sendable {
        /// A Boolean flag (`--json`): present or not; repeated, still true.
        case flag
        /// A counted flag (`-v`, `-vv`, `--verbose`): how many times given.
        case count
        /// An option with one value (`--config FILE`, `--config=FILE`); repeated, the last wins.
        case option
        /// A repeatable option whose values are collected in order (`--checkpoint A --checkpoint B`).
        case options
        /// A required positional argument, one value, in declaration order.
        case positional
    }

    /// Its spellings as typed (`-d`, `--database`); none for a positional.
    let names: [String]
    let kind: Kind
}

/// The options, flags and positional arguments of a `ParsableArguments` type, read the
/// way swift-argument-parser reads them, for the lines whose reading is certain.
///
/// `Value` is constrained on the methods, not on the type: the runtime instantiates
/// `DirectArguments<Value>.Part` by its mangled name, and a requirement there would be
/// checked by a scan of every conformance record (start-up, issue 18).
struct DirectArguments<Value>: Sendable {
    /// An argument, or a group of them (`@OptionGroup`), with how it sets the value.
    struct Part: Sendable {
        let entries: [DirectArgument]
        /// Sets the value from what the line gave each of `entries`, in their order;
        /// false when a value does not convert or a group does not validate.
        let apply: @Sendable (inout Value, ArraySlice<[String]>) -> Bool
    }

    let parts: [Part]
    /// Every option, flag and positional argument, the groups' included, in order.
    let entries: [DirectArgument]

    init(_ parts: [Part]) {
        self.parts = parts
        // A loop, not `flatMap`: its generic code costs a conformance scan on the first run.
        var entries: [DirectArgument] = []
        for part in parts {
            entries += part.entries
        }
        self.entries = entries
    }
}

extension DirectArguments where Value: ParsableArguments {
    /// The value a line gives, or nil when the full parser must decide: a word that is not
    /// exactly one of the spellings (an unknown, grouped or single-dash `=` option, `-`,
    /// a negative number), a flag given a value, an option without a value or whose value
    /// begins with a dash or is empty after `=`, positional arguments too many or too few,
    /// a value that does not convert, a `validate()` that throws.
    func parse(_ line: [String]) -> Value? {
        let entries = self.entries
        var given = [[String]](repeating: [], count: entries.count)
        var positionals: [String] = []
        var index = 0
        while index < line.count {
            let word = line[index]
            index += 1
            if word == "--" {
                // Everything after it is a positional argument, as for the parser.
                positionals += line[index...]
                break
            }
            guard word.hasPrefix("-") else {
                positionals.append(word)
                continue
            }
            if let entry = entries.firstIndex(where: { $0.kind != .positional && $0.names.contains(word) }) {
                switch entries[entry].kind {
                case .flag, .count:
                    given[entry].append(word)
                case .option, .options:
                    // The parser takes the next word if it is a value; a dash-led one is
                    // an option to it (or "-", a value): either way, left to it.
                    guard index < line.count, !line[index].hasPrefix("-") else { return nil }
                    given[entry].append(line[index])
                    index += 1
                case .positional:
                    return nil
                }
            } else if let equals = word.firstIndex(of: "="), word.hasPrefix("--") {
                // `--name=value`; `--name=` the parser reads as `--name` and takes the next word.
                let name = String(word[..<equals])
                let value = String(word[word.index(after: equals)...])
                guard !value.isEmpty,
                      let entry = entries.firstIndex(where: { ($0.kind == .option || $0.kind == .options) && $0.names.contains(name) })
                else { return nil }
                given[entry].append(value)
            } else if let entry = repeatedShortCount(word, in: entries) {
                // `-vv`: a counted flag's short name repeated.
                given[entry] += Array(repeating: word, count: word.count - 1)
            } else {
                return nil
            }
        }
        let slots = entries.indices.filter { entries[$0].kind == .positional }
        guard positionals.count == slots.count else { return nil }
        for (slot, value) in zip(slots, positionals) {
            given[slot] = [value]
        }
        return build(given[...])
    }

    /// The counted flag whose one-letter name `word` repeats (`-vvv`), if any.
    private func repeatedShortCount(_ word: String, in entries: [DirectArgument]) -> Int? {
        let letters = word.dropFirst()
        guard word.hasPrefix("-"), letters.count > 1, let letter = letters.first, letter != "-",
              letters.allSatisfy({ $0 == letter })
        else { return nil }
        return entries.firstIndex { $0.kind == .count && $0.names.contains("-" + String(letter)) }
    }

    /// The value from what the line gave each entry, validated as the parser validates it.
    func build(_ given: ArraySlice<[String]>) -> Value? {
        var value = Value()
        var start = given.startIndex
        for part in parts {
            let end = start + part.entries.count
            guard part.apply(&value, given[start..<end]) else { return nil }
            start = end
        }
        do {
            try value.validate()
        } catch {
            return nil
        }
        return value
    }
}

extension DirectArguments.Part {
    private init(_ names: [String], _ kind: DirectArgument.Kind, _ apply: @escaping @Sendable (inout Value, [String]) -> Bool) {
        self.init(entries: [.init(names: names, kind: kind)]) { value, given in apply(&value, given[given.startIndex]) }
    }

    /// `@Flag var name = false`.
    static func flag(_ names: String..., set: @escaping @Sendable (inout Value, Bool) -> Void) -> Self {
        .init(names, .flag) { value, given in
            set(&value, !given.isEmpty)
            return true
        }
    }

    /// `@Flag var name: Int`: how many times given.
    static func count(_ names: String..., set: @escaping @Sendable (inout Value, Int) -> Void) -> Self {
        .init(names, .count) { value, given in
            set(&value, given.count)
            return true
        }
    }

    /// `@Option var name: String?`: the last value given, or nil.
    static func option(_ names: String..., set: @escaping @Sendable (inout Value, String?) -> Void) -> Self {
        .init(names, .option) { value, given in
            set(&value, given.last)
            return true
        }
    }

    /// `@Option var name: T?`: the last value given, or nil. The parser converts every value
    /// given, so one that does not convert sends the line to it.
    static func option<T: ExpressibleByArgument>(_ names: String..., as: T.Type, set: @escaping @Sendable (inout Value, T?) -> Void) -> Self {
        .init(names, .option) { value, given in
            var converted: T?
            for text in given {
                guard let one = T(argument: text) else { return false }
                converted = one
            }
            set(&value, converted)
            return true
        }
    }

    /// `@Option var name: [String] = []`: every value given, in order.
    static func options(_ names: String..., set: @escaping @Sendable (inout Value, [String]) -> Void) -> Self {
        .init(names, .options) { value, given in
            set(&value, given)
            return true
        }
    }

    /// `@Argument var name: String`: one required positional argument.
    static func argument(set: @escaping @Sendable (inout Value, String) -> Void) -> Self {
        .init([], .positional) { value, given in
            guard let text = given.first, given.count == 1 else { return false }
            set(&value, text)
            return true
        }
    }

    /// `@OptionGroup var name: Group`: the group's arguments, its value built and
    /// validated on its own, as the parser decodes an option group.
    static func group<Group: ParsableArguments>(_ group: DirectArguments<Group>, set: @escaping @Sendable (inout Value, Group) -> Void) -> Self {
        .init(entries: group.entries) { value, given in
            guard let built = group.build(given) else { return false }
            set(&value, built)
            return true
        }
    }
}

extension DirectArguments.Part where Value: DirectlyParsed {
    /// `@OptionGroup var options: GlobalOptions`, on every gmp command.
    static var globalOptions: Self {
        .group(GlobalOptions.directArguments) { $0.options = $1 }
    }
}

extension GlobalOptions {
    /// The global options as `DirectArguments` reads them; also their spellings before the
    /// command (`GlobalOptionPlacement`).
    static let directArguments = DirectArguments<GlobalOptions>([
        .option("-d", "--database") { $0.database = $1 },
        .option("-U", "--user") { $0.user = $1 },
        .option("--config") { $0.config = $1 },
        .flag("--json") { $0.json = $1 },
        .option("--color", as: ColorChoice.self) { $0.color = $1 },
        .count("-v", "--verbose") { $0.verbose = $1 },
        .flag("-q", "--quiet") { $0.quiet = $1 },
    ])
}
