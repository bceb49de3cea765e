// The material trace read straight from its bytes (JSONPullReader, issue 14): the same
// keys and the same rules as the `JSONDecodable` inits (absent or null is nil,
// `present`: required), so a text reads to the same values either way.

extension MaterialDocument.Trace: JSONPullDecodable {
    init(reading reader: inout JSONPullReader) throws(JSONByteScanner.Stop) {
        var material: MaterialDocument.Lot?
        var consumptions: [MaterialDocument.Consumption]?
        var lots: [MaterialDocument.ReachedLot]?
        try reader.members { reader, key throws(JSONByteScanner.Stop) in
            switch key {
            case "material": material = try reader.optional(); return 0
            case "consumptions": consumptions = try reader.optional(); return 1
            case "lots": lots = try reader.optional(); return 2
            default: return nil
            }
        }
        self.init(material: try present(material),
                  consumptions: try present(consumptions),
                  lots: try present(lots))
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
        try reader.members { reader, key throws(JSONByteScanner.Stop) in
            switch key {
            case "id": id = try reader.optional(); return 0
            case "type": type = try reader.optional(); return 1
            case "name": name = try reader.optional(); return 2
            case "category": category = try reader.optional(); return 3
            case "supplier": supplier = try reader.optional(); return 4
            case "manufacturer": manufacturer = try reader.optional(); return 5
            case "supplier_lot": supplierLot = try reader.optional(); return 6
            case "quantity": quantity = try reader.optional(); return 7
            case "unit": unit = try reader.optional(); return 8
            case "received_at": receivedAt = try reader.optional(); return 9
            case "received_by": receivedBy = try reader.optional(); return 10
            case "receipt_condition": receiptCondition = try reader.optional(); return 11
            case "expires_on": expiresOn = try reader.optional(); return 12
            case "days_after_opening": daysAfterOpening = try reader.optional(); return 13
            case "opened_at": openedAt = try reader.optional(); return 14
            case "use_by": useBy = try reader.optional(); return 15
            case "certificate_sha256": certificateSha256 = try reader.optional(); return 16
            case "storage_condition": storageCondition = try reader.optional(); return 17
            case "status": status = try reader.optional(); return 18
            case "usable_now": usableNow = try reader.optional(); return 19
            case "dispositions": dispositions = try reader.optional(); return 20
            case "consumptions": consumptions = try reader.optional(); return 21
            default: return nil
            }
        }
        self.init(id: try present(id),
                  type: try present(type),
                  name: try present(name),
                  category: try present(category),
                  supplier: try present(supplier),
                  manufacturer: manufacturer,
                  supplierLot: try present(supplierLot),
                  quantity: try present(quantity),
                  unit: try present(unit),
                  receivedAt: try present(receivedAt),
                  receivedBy: try present(receivedBy),
                  receiptCondition: try present(receiptCondition),
                  expiresOn: try present(expiresOn),
                  daysAfterOpening: daysAfterOpening,
                  openedAt: openedAt,
                  useBy: try present(useBy),
                  certificateSha256: try present(certificateSha256),
                  storageCondition: try present(storageCondition),
                  status: try present(status),
                  usableNow: try present(usableNow),
                  dispositions: try present(dispositions),
                  consumptions: consumptions)
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
        try reader.members { reader, key throws(JSONByteScanner.Stop) in
            switch key {
            case "id": id = try reader.optional(); return 0
            case "decision": decision = try reader.optional(); return 1
            case "reason": reason = try reader.optional(); return 2
            case "decided_by": decidedBy = try reader.optional(); return 3
            case "decided_at": decidedAt = try reader.optional(); return 4
            case "signature_id": signatureId = try reader.optional(); return 5
            case "signature_intact": signatureIntact = try reader.optional(); return 6
            default: return nil
            }
        }
        self.init(id: try present(id),
                  decision: try present(decision),
                  reason: reason,
                  decidedBy: try present(decidedBy),
                  decidedAt: try present(decidedAt),
                  signatureId: signatureId,
                  signatureIntact: signatureIntact)
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
        try reader.members { reader, key throws(JSONByteScanner.Stop) in
            switch key {
            case "id": id = try reader.optional(); return 0
            case "material_lot": materialLot = try reader.optional(); return 1
            case "lot": lot = try reader.optional(); return 2
            case "quantity": quantity = try reader.optional(); return 3
            case "unit": unit = try reader.optional(); return 4
            case "used_at": usedAt = try reader.optional(); return 5
            case "step": step = try reader.optional(); return 6
            case "step_id": stepId = try reader.optional(); return 7
            case "test": test = try reader.optional(); return 8
            case "result_id": resultId = try reader.optional(); return 9
            case "recorded_by": recordedBy = try reader.optional(); return 10
            default: return nil
            }
        }
        self.init(id: try present(id),
                  materialLot: try present(materialLot),
                  lot: try present(lot),
                  quantity: try present(quantity),
                  unit: try present(unit),
                  usedAt: try present(usedAt),
                  step: step,
                  stepId: stepId,
                  test: test,
                  resultId: resultId,
                  recordedBy: try present(recordedBy))
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
        try reader.members { reader, key throws(JSONByteScanner.Stop) in
            switch key {
            case "din": din = try reader.optional(); return 0
            case "check_character": checkCharacter = try reader.optional(); return 1
            case "stage": stage = try reader.optional(); return 2
            case "product_kind": productKind = try reader.optional(); return 3
            case "status": status = try reader.optional(); return 4
            case "via": via = try reader.optional(); return 5
            case "consumed": consumed = try reader.optional(); return 6
            case "whereabouts":
                if let units = reader.units {
                    // Handed on as they are read, not kept.
                    if try reader.scan.peek() == UInt8(ascii: "n") {
                        try reader.scan.literal("null")
                    } else {
                        try reader.elements { reader throws(JSONByteScanner.Stop) in units(try .read(&reader)) }
                    }
                } else {
                    whereabouts = try reader.optional()
                }
                return 7
            default: return nil
            }
        }
        self.init(din: try present(din),
                  checkCharacter: try present(checkCharacter),
                  stage: try present(stage),
                  productKind: try present(productKind),
                  status: try present(status),
                  via: via,
                  consumed: try present(consumed),
                  whereabouts: whereabouts)
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

    /// The trace from its text's UTF-8 bytes in place, each unit's whereabouts handed to
    /// `unit`, in the document's order, as its parts borrowed from the bytes instead of kept:
    /// the reached lots' `whereabouts` are not to be read then. The material trace's text
    /// form (issue 14). Where the bytes are read again the tree's way (an escape, say),
    /// `restart` is called first and the units are handed again from the first.
    public init(documentBytes bytes: UnsafeBufferPointer<UInt8>, units unit: (TraceDocument.WhereaboutsParts) -> Void,
                restart: () -> Void) throws {
        let read: Result<Self, JSONByteScanner.Stop> = withoutActuallyEscaping(unit) { unit in
            var reader = JSONPullReader(bytes: bytes)
            reader.units = unit
            return Result { () throws(JSONByteScanner.Stop) in try JSONPullReader.read(&reader, as: Self.self) }
        }
        if case .success(let trace) = read {
            self = trace
            return
        }
        restart()
        self = try Self(documentBytes: bytes)
        for lot in lots {
            for whereabouts in lot.whereabouts ?? [] { whereabouts.withParts(unit) }
        }
    }

    /// The same from the text's UTF-8 bytes in place (libpq's result, no String made).
    public init(documentBytes bytes: UnsafeBufferPointer<UInt8>) throws {
        if let trace = try? JSONPullReader.read(bytes: bytes, as: Self.self) {
            self = trace
        } else {
            try self.init(jsonText: String(decoding: bytes, as: UTF8.self))
        }
    }
}
