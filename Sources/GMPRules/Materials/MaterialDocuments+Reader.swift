// The material trace read straight from its bytes (JSONPullReader, issue 14): the same
// keys and the same rules as the `JSONDecodable` inits (`optional`: absent or null is nil,
// `present`: required), so a text reads to the same values either way.

extension MaterialDocument.Trace: JSONPullDecodable {
    init(reading reader: inout JSONPullReader) throws(JSONByteScanner.Stop) {
        var material: MaterialDocument.Lot?
        var consumptions: [MaterialDocument.Consumption]?
        var lots: [MaterialDocument.ReachedLot]?
        var seen = JSONPullReader.Seen()
        if try reader.openObject() {
            repeat {
                switch try reader.key() {
                case "material": try seen.once(0); material = try reader.optional()
                case "consumptions": try seen.once(1); consumptions = try reader.optional()
                case "lots": try seen.once(2); lots = try reader.optional()
                default: try reader.scan.skipValue()
                }
            } while try reader.more(closing: UInt8(ascii: "}"))
        }
        self.init(material: try present(material), consumptions: try present(consumptions), lots: try present(lots))
    }
}

extension MaterialDocument.Lot: JSONPullDecodable {
    init(reading reader: inout JSONPullReader) throws(JSONByteScanner.Stop) {
        var id: String?
        var type: String?
        var name: String?
        var category: String?
        var supplier: String?
        var manufacturer: String?
        var supplierLot: String?
        var quantity: String?
        var unit: String?
        var receivedAt: String?
        var receivedBy: String?
        var receiptCondition: String?
        var expiresOn: String?
        var daysAfterOpening: Int?
        var openedAt: String?
        var useBy: String?
        var certificateSha256: String?
        var storageCondition: String?
        var status: String?
        var usableNow: Bool?
        var dispositions: [MaterialDocument.Disposition]?
        var consumptions: [MaterialDocument.Consumption]?
        var seen = JSONPullReader.Seen()
        if try reader.openObject() {
            repeat {
                switch try reader.key() {
                case "id": try seen.once(0); id = try reader.optional()
                case "type": try seen.once(1); type = try reader.optional()
                case "name": try seen.once(2); name = try reader.optional()
                case "category": try seen.once(3); category = try reader.optional()
                case "supplier": try seen.once(4); supplier = try reader.optional()
                case "manufacturer": try seen.once(5); manufacturer = try reader.optional()
                case "supplier_lot": try seen.once(6); supplierLot = try reader.optional()
                case "quantity": try seen.once(7); quantity = try reader.optional()
                case "unit": try seen.once(8); unit = try reader.optional()
                case "received_at": try seen.once(9); receivedAt = try reader.optional()
                case "received_by": try seen.once(10); receivedBy = try reader.optional()
                case "receipt_condition": try seen.once(11); receiptCondition = try reader.optional()
                case "expires_on": try seen.once(12); expiresOn = try reader.optional()
                case "days_after_opening": try seen.once(13); daysAfterOpening = try reader.optional()
                case "opened_at": try seen.once(14); openedAt = try reader.optional()
                case "use_by": try seen.once(15); useBy = try reader.optional()
                case "certificate_sha256": try seen.once(16); certificateSha256 = try reader.optional()
                case "storage_condition": try seen.once(17); storageCondition = try reader.optional()
                case "status": try seen.once(18); status = try reader.optional()
                case "usable_now": try seen.once(19); usableNow = try reader.optional()
                case "dispositions": try seen.once(20); dispositions = try reader.optional()
                case "consumptions": try seen.once(21); consumptions = try reader.optional()
                default: try reader.scan.skipValue()
                }
            } while try reader.more(closing: UInt8(ascii: "}"))
        }
        self.init(id: try present(id), type: try present(type), name: try present(name), category: try present(category), supplier: try present(supplier), manufacturer: manufacturer, supplierLot: try present(supplierLot), quantity: try present(quantity), unit: try present(unit), receivedAt: try present(receivedAt), receivedBy: try present(receivedBy), receiptCondition: try present(receiptCondition), expiresOn: try present(expiresOn), daysAfterOpening: daysAfterOpening, openedAt: openedAt, useBy: try present(useBy), certificateSha256: try present(certificateSha256), storageCondition: try present(storageCondition), status: try present(status), usableNow: try present(usableNow), dispositions: try present(dispositions), consumptions: consumptions)
    }
}

extension MaterialDocument.Disposition: JSONPullDecodable {
    init(reading reader: inout JSONPullReader) throws(JSONByteScanner.Stop) {
        var id: Int64?
        var decision: String?
        var reason: String?
        var decidedBy: String?
        var decidedAt: String?
        var signatureId: Int64?
        var signatureIntact: Bool?
        var seen = JSONPullReader.Seen()
        if try reader.openObject() {
            repeat {
                switch try reader.key() {
                case "id": try seen.once(0); id = try reader.optional()
                case "decision": try seen.once(1); decision = try reader.optional()
                case "reason": try seen.once(2); reason = try reader.optional()
                case "decided_by": try seen.once(3); decidedBy = try reader.optional()
                case "decided_at": try seen.once(4); decidedAt = try reader.optional()
                case "signature_id": try seen.once(5); signatureId = try reader.optional()
                case "signature_intact": try seen.once(6); signatureIntact = try reader.optional()
                default: try reader.scan.skipValue()
                }
            } while try reader.more(closing: UInt8(ascii: "}"))
        }
        self.init(id: try present(id), decision: try present(decision), reason: reason, decidedBy: try present(decidedBy), decidedAt: try present(decidedAt), signatureId: signatureId, signatureIntact: signatureIntact)
    }
}

extension MaterialDocument.Consumption: JSONPullDecodable {
    init(reading reader: inout JSONPullReader) throws(JSONByteScanner.Stop) {
        var id: Int64?
        var materialLot: String?
        var lot: String?
        var quantity: String?
        var unit: String?
        var usedAt: String?
        var step: String?
        var stepId: Int64?
        var test: String?
        var resultId: Int64?
        var recordedBy: String?
        var seen = JSONPullReader.Seen()
        if try reader.openObject() {
            repeat {
                switch try reader.key() {
                case "id": try seen.once(0); id = try reader.optional()
                case "material_lot": try seen.once(1); materialLot = try reader.optional()
                case "lot": try seen.once(2); lot = try reader.optional()
                case "quantity": try seen.once(3); quantity = try reader.optional()
                case "unit": try seen.once(4); unit = try reader.optional()
                case "used_at": try seen.once(5); usedAt = try reader.optional()
                case "step": try seen.once(6); step = try reader.optional()
                case "step_id": try seen.once(7); stepId = try reader.optional()
                case "test": try seen.once(8); test = try reader.optional()
                case "result_id": try seen.once(9); resultId = try reader.optional()
                case "recorded_by": try seen.once(10); recordedBy = try reader.optional()
                default: try reader.scan.skipValue()
                }
            } while try reader.more(closing: UInt8(ascii: "}"))
        }
        self.init(id: try present(id), materialLot: try present(materialLot), lot: try present(lot), quantity: try present(quantity), unit: try present(unit), usedAt: try present(usedAt), step: step, stepId: stepId, test: test, resultId: resultId, recordedBy: try present(recordedBy))
    }
}

extension MaterialDocument.ReachedLot: JSONPullDecodable {
    init(reading reader: inout JSONPullReader) throws(JSONByteScanner.Stop) {
        var din: String?
        var checkCharacter: String?
        var stage: String?
        var productKind: String?
        var status: String?
        var via: String?
        var consumed: Bool?
        var whereabouts: [TraceDocument.Whereabouts]?
        var seen = JSONPullReader.Seen()
        if try reader.openObject() {
            repeat {
                switch try reader.key() {
                case "din": try seen.once(0); din = try reader.optional()
                case "check_character": try seen.once(1); checkCharacter = try reader.optional()
                case "stage": try seen.once(2); stage = try reader.optional()
                case "product_kind": try seen.once(3); productKind = try reader.optional()
                case "status": try seen.once(4); status = try reader.optional()
                case "via": try seen.once(5); via = try reader.optional()
                case "consumed": try seen.once(6); consumed = try reader.optional()
                case "whereabouts": try seen.once(7); whereabouts = try reader.optional()
                default: try reader.scan.skipValue()
                }
            } while try reader.more(closing: UInt8(ascii: "}"))
        }
        self.init(din: try present(din), checkCharacter: try present(checkCharacter), stage: try present(stage), productKind: try present(productKind), status: try present(status), via: via, consumed: try present(consumed), whereabouts: whereabouts)
    }
}

extension MaterialDocument.Trace {
    /// The trace from the server's JSON text: straight from its bytes (`JSONPullReader`),
    /// or the tree's way (`JSONDecodable`) where that reader stops, which reads the same
    /// values or throws the tree's error.
    public init(documentText text: String) throws {
        if let trace = try? JSONPullReader.read(text, as: Self.self) {
            self = trace
        } else {
            try self.init(jsonText: text)
        }
    }
}
