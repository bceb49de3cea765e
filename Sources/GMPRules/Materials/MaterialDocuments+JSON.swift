// The documents read from the server without JSONDecoder (JSONDecodable, issue 18): one
// init per type, its keys the server's, as `.convertFromSnakeCase` mapped them.

extension MaterialDocument.Lot: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        id = try o.field("id")
        type = try o.field("type")
        name = try o.field("name")
        category = try o.field("category")
        supplier = try o.field("supplier")
        manufacturer = try o.optional("manufacturer")
        supplierLot = try o.field("supplier_lot")
        quantity = try o.field("quantity")
        unit = try o.field("unit")
        receivedAt = try o.field("received_at")
        receivedBy = try o.field("received_by")
        receiptCondition = try o.field("receipt_condition")
        expiresOn = try o.field("expires_on")
        daysAfterOpening = try o.optional("days_after_opening")
        openedAt = try o.optional("opened_at")
        useBy = try o.field("use_by")
        certificateSha256 = try o.field("certificate_sha256")
        storageCondition = try o.field("storage_condition")
        status = try o.field("status")
        usableNow = try o.field("usable_now")
        dispositions = try o.field("dispositions")
        consumptions = try o.optional("consumptions")
    }
}

extension MaterialDocument.Disposition: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        id = try o.field("id")
        decision = try o.field("decision")
        reason = try o.optional("reason")
        decidedBy = try o.field("decided_by")
        decidedAt = try o.field("decided_at")
        signatureId = try o.optional("signature_id")
        signatureIntact = try o.optional("signature_intact")
    }
}

extension MaterialDocument.Consumption: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        id = try o.field("id")
        materialLot = try o.field("material_lot")
        lot = try o.field("lot")
        quantity = try o.field("quantity")
        unit = try o.field("unit")
        usedAt = try o.field("used_at")
        step = try o.optional("step")
        stepId = try o.optional("step_id")
        test = try o.optional("test")
        resultId = try o.optional("result_id")
        recordedBy = try o.field("recorded_by")
    }
}

extension MaterialDocument.ReachedLot: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        din = try o.field("din")
        checkCharacter = try o.field("check_character")
        stage = try o.field("stage")
        productKind = try o.field("product_kind")
        status = try o.field("status")
        via = try o.optional("via")
        consumed = try o.field("consumed")
        whereabouts = try o.optional("whereabouts")
    }
}

extension MaterialDocument.Trace: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        material = try o.field("material")
        consumptions = try o.field("consumptions")
        lots = try o.field("lots")
    }
}

extension MaterialDocument.LotMaterial: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        materialLot = try o.field("material_lot")
        type = try o.field("type")
        supplier = try o.field("supplier")
        supplierLot = try o.field("supplier_lot")
        expiresOn = try o.field("expires_on")
        certificateSha256 = try o.field("certificate_sha256")
        lot = try o.field("lot")
        quantity = try o.field("quantity")
        unit = try o.field("unit")
        usedAt = try o.field("used_at")
        stepId = try o.optional("step_id")
        resultId = try o.optional("result_id")
    }
}

extension EquipmentDocument.LotEquipment: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        equipment = try o.field("equipment")
        kind = try o.field("kind")
        name = try o.field("name")
        lot = try o.field("lot")
        usedAt = try o.field("used_at")
        stepId = try o.optional("step_id")
        resultId = try o.optional("result_id")
    }
}

