import PostgresClient

/// Parses a master batch record file (`config/processes/*.yaml`, format in
/// docs/master-batch-records.md) with the specification files' checked mapping: an
/// unknown key, a missing key or a value of the wrong kind is refused with its key path.
/// Steps must follow the order of the step kinds, each kind at most once; every
/// parameter needs at least one limit, and a lower limit not above the upper.
public enum ProcessFile {
    static let header = ControlledDocumentHeader.Kind(
        topKeys: ["process", "title", "applies_to", "steps"], codeKey: "process",
        codeDescription: "the process code, such as UC-MSC-MBR", codeNoun: "process code",
        helpTopic: "master-batch-records", example: "gmp docs --process uc-msc")
    static let stepKeys = ["kind", "procedure", "check", "parameters", "materials", "equipment"]
    static let parameterKeys = ["name", "unit", "at_least", "at_most"]
    static let checkWords = ["required": true, "none": false]

    /// The master batch record in `text`, or the first problem found.
    public static func parse(_ text: String) throws -> MasterRecord {
        let header = try ControlledDocumentHeader(text, Self.header)
        return MasterRecord(code: header.code, title: header.title, productKind: header.productKind, stage: header.stage,
                            steps: try parseSteps(header.top))
    }

    private static func parseSteps(_ top: SpecificationMapping) throws -> [MasterStep] {
        let node = try top.required("steps", "a list of steps")
        guard let items = node.sequence, !items.isEmpty else {
            throw top.error("steps", "expected a non-empty list of steps", fix: "add at least one `- kind: …` item")
        }
        let order = ManufacturingStepKind.allCases
        var steps: [MasterStep] = []
        for (index, item) in items.enumerated() {
            let fields = try SpecificationMapping(item, path: "steps[\(index)]", allowed: stepKeys)
            let kind = try fields.choice("kind", ManufacturingStepKind.self)
            if let previous = steps.last, order.firstIndex(of: previous.kind)! >= order.firstIndex(of: kind)! {
                throw fields.error("kind", "\(kind.rawValue) cannot follow \(previous.kind.rawValue)",
                                   fix: "list each kind once, in the order \(order.map(\.rawValue).joined(separator: ", "))")
            }
            let procedure = try fields.text("procedure", "the SOP code, such as SOP-MFG-101")
            guard isProcedureCode(procedure) else {
                throw fields.error("procedure", "\"\(procedure)\" is not an SOP code",
                                   fix: "write SOP- then capital letters and digits in dash-separated groups, 32 characters at most")
            }
            let checkWord = try fields.text("check", "required or none")
            guard let check = checkWords[checkWord] else {
                throw fields.error("check", "\"\(checkWord)\" is not required or none", fix: "write check: required or check: none")
            }
            steps.append(MasterStep(kind: kind, procedure: procedure, checkRequired: check,
                                    parameters: try parseParameters(fields),
                                    materials: try vocabularyList(fields, "materials", MaterialVocabulary.categories),
                                    equipment: try vocabularyList(fields, "equipment", EquipmentVocabulary.kinds)))
        }
        return steps
    }

    private static func parseParameters(_ step: SpecificationMapping) throws -> [ProcessParameter] {
        guard let node = step.node("parameters") else { return [] }
        guard let items = node.sequence else {
            throw step.error("parameters", "expected a list of parameters", fix: "write `- name: …` items, or leave the key out")
        }
        var parameters: [ProcessParameter] = []
        for (index, item) in items.enumerated() {
            let fields = try SpecificationMapping(item, path: step.path("parameters") + "[\(index)]", allowed: parameterKeys)
            let name = try fields.text("name", "the parameter's name, such as seeding_density")
            guard isParameterName(name) else {
                throw fields.error("name", "\"\(name)\" is not a parameter name",
                                   fix: "use a lower-case letter, then lower-case letters, digits and _ (40 at most)")
            }
            if parameters.contains(where: { $0.name == name }) {
                throw fields.error("name", "\"\(name)\" is named twice in this step", fix: "give each parameter its own name")
            }
            let unit = try fields.choice("unit", MeasurementUnit.self)
            let atLeast = fields.has("at_least") ? try fields.decimal("at_least") : nil
            let atMost = fields.has("at_most") ? try fields.decimal("at_most") : nil
            guard atLeast != nil || atMost != nil else {
                throw fields.error("name", "parameter \(name) has no limit", fix: "give at_least, at_most or both")
            }
            if let atLeast, let atMost, atMost < atLeast {
                throw fields.error("at_most", "\(atMost) is below at_least \(atLeast)", fix: "give at_least ≤ at_most")
            }
            parameters.append(ProcessParameter(name: name, unit: unit, atLeast: atLeast, atMost: atMost))
        }
        return parameters
    }

    private static func vocabularyList(_ step: SpecificationMapping, _ key: String, _ vocabulary: [String]) throws -> [String] {
        guard step.has(key) else { return [] }
        var words: [String] = []
        for item in try step.list(key, vocabulary.joined(separator: ", ")) {
            guard vocabulary.contains(item.text) else {
                throw SpecificationFileError(path: item.path, line: item.line, problem: "\"\(item.text)\" is not known",
                                             fix: "use one of \(vocabulary.joined(separator: ", "))")
            }
            guard !words.contains(item.text) else {
                throw SpecificationFileError(path: item.path, line: item.line, problem: "\"\(item.text)\" is named twice",
                                             fix: "name each once")
            }
            words.append(item.text)
        }
        return words
    }

    /// `SOP-[A-Z0-9]+(-[A-Z0-9]+)*`, at most 32 characters (the database's CHECK).
    static func isProcedureCode(_ text: String) -> Bool {
        guard text.utf8.count <= 32, text.hasPrefix("SOP-") else { return false }
        let groups = text.dropFirst(4).split(separator: "-", omittingEmptySubsequences: false)
        return !groups.isEmpty && groups.allSatisfy { group in
            !group.isEmpty && group.utf8.allSatisfy { (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) }
        }
    }

    /// `[a-z][a-z0-9_]{0,39}`.
    static func isParameterName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...40).contains(bytes.count), (0x61...0x7A).contains(bytes[0]) else { return false }
        return bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }
}
