/// The opening a specification file and a master batch record file share: the YAML read
/// (`YAMLReader`), the top mapping checked against its keys, then the code, the
/// title and what the document applies to (kind of product and stage). One home, so the
/// two controlled documents refuse a bad opening alike.
struct ControlledDocumentHeader {
    /// What differs between the two kinds of file.
    struct Kind {
        /// The top-level keys allowed.
        let topKeys: [String]
        /// The key of the code ("specification", "process") and its words: "the process
        /// code, such as UC-MSC-MBR"; refused as "not a process code".
        let codeKey: String
        let codeDescription: String
        let codeNoun: String
        /// The `gmp help` topic of the format, and the command that writes an example.
        let helpTopic: String
        let example: String
    }

    static let appliesToKeys = ["product_kind", "stage"]

    let top: SpecificationMapping
    let code: String
    let title: String
    let productKind: ProductKind
    let stage: LotStage

    init(_ text: String, _ kind: Kind) throws {
        let root: YAMLNode?
        do {
            root = try YAMLReader.read(text)
        } catch let error as YAMLError {
            throw SpecificationFileError(path: "", line: error.line, problem: "not valid YAML (\(error.problem))",
                                         fix: "correct the YAML; gmp help \(kind.helpTopic) shows the format")
        }
        guard let root else {
            throw SpecificationFileError(path: "", line: nil, problem: "the file is empty",
                                         fix: "start from a shipped example: \(kind.example)")
        }
        top = try SpecificationMapping(root, path: "", allowed: kind.topKeys)
        code = try top.text(kind.codeKey, kind.codeDescription)
        guard SpecificationSyntax.isSpecificationCode(code) else {
            throw top.error(kind.codeKey, "\"\(code)\" is not a \(kind.codeNoun)",
                            fix: "use 2–32 capital letters, digits and hyphens, not starting with a hyphen")
        }
        title = try top.text("title", "the title printed on reports")
        let appliesTo = try SpecificationMapping(try top.required("applies_to", "product_kind and stage"),
                                                 path: "applies_to", allowed: Self.appliesToKeys)
        productKind = try appliesTo.choice("product_kind", ProductKind.self)
        stage = try appliesTo.choice("stage", LotStage.self)
    }
}
