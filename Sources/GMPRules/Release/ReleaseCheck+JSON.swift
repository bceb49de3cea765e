// The documents read from the server without JSONDecoder (JSONDecodable, issue 18): one
// init per type, its keys the server's, as `.convertFromSnakeCase` mapped them.

extension ReleaseCheck: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        lot = try o.field("lot")
        specification = try o.optional("specification")
        dose = try o.optional("dose")
        evaluation = try o.field("evaluation")
        deviations = try o.field("deviations")
        eligibility = try o.optional("eligibility")
        blockers = try o.field("blockers")
        status = try o.field("status")
        statusProblem = try o.optional("status_problem")
        releasable = try o.field("releasable")
        packageSha256 = try o.field("package_sha256")
    }
}

extension ReleaseCheck.Lot: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        din = try o.field("din")
        keyedId = try o.field("keyed_id")
        stage = try o.field("stage")
        productKind = try o.field("product_kind")
        intendedUse = try o.field("intended_use")
        donorCode = try o.field("donor_code")
        collectionId = try o.field("collection_id")
        parentDin = try o.optional("parent_din")
        expiresOn = try o.field("expires_on")
        manufacturedOn = try o.optional("manufactured_on")
        units = try o.optional("units")
        unitVolumeMl = try o.optional("unit_volume_ml")
    }
}

extension ReleaseCheck.SpecificationVersion: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        id = try o.field("id")
        code = try o.field("code")
        version = try o.field("version")
        title = try o.field("title")
        approvedAt = try o.optional("approved_at")
        approvedBy = try o.optional("approved_by")
        criteriaSha256 = try o.optional("criteria_sha256")
    }
}

extension ReleaseCheck.Dose: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        maxDoseMlPerKgH = try o.optional("max_dose_ml_per_kg_h")
        intrathecal = try o.field("intrathecal")
        unit = try o.optional("unit")
        setBy = try o.optional("set_by")
        setAt = try o.optional("set_at")
        signedBy = try o.optional("signed_by")
        signedAt = try o.optional("signed_at")
        signatureId = try o.optional("signature_id")
        permitted = try o.optional("permitted")
    }
}

extension ReleaseCheck.Dose.PermittedDose: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        test = try o.field("test")
        min = try o.field("min")
        max = try o.field("max")
    }
}

extension ReleaseCheck.Evaluation: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        ordinal = try o.field("ordinal")
        test = try o.field("test")
        name = try o.field("name")
        method = try o.field("method")
        limitText = try o.field("limit_text")
        unit = try o.optional("unit")
        parts = try o.optional("parts")
        verdict = try o.field("verdict")
        results = try o.field("results")
    }
}

extension ReleaseCheck.Result: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        id = try o.field("id")
        attempt = try o.field("attempt")
        corrects = try o.optional("corrects")
        correctionReason = try o.optional("correction_reason")
        qualifier = try o.optional("qualifier")
        value = try o.optional("value")
        unit = try o.optional("unit")
        outcomes = try o.optional("outcomes")
        method = try o.field("method")
        instrument = try o.optional("instrument")
        analyst = try o.field("analyst")
        performedAt = try o.field("performed_at")
        recordedBy = try o.field("recorded_by")
        verdict = try o.field("verdict")
        deviationId = try o.optional("deviation_id")
        superseded = try o.field("superseded")
        counted = try o.field("counted")
        verifiedBy = try o.optional("verified_by")
        verifiedAt = try o.optional("verified_at")
        invalidatedBy = try o.optional("invalidated_by")
        assignableCause = try o.optional("assignable_cause")
    }
}

extension ReleaseCheck.Deviation: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        id = try o.field("id")
        kind = try o.field("kind")
        title = try o.field("title")
        status = try o.field("status")
        outcome = try o.optional("outcome")
        closedAt = try o.optional("closed_at")
        closedBy = try o.optional("closed_by")
    }
}

extension ReleaseCheck.Eligibility: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        determinationId = try o.field("determination_id")
        outcome = try o.field("outcome")
        signedBy = try o.optional("signed_by")
        signedAt = try o.optional("signed_at")
    }
}

extension ReleaseCheck.Blocker: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        kind = try o.field("kind")
        item = try o.field("item")
        problem = try o.field("problem")
    }
}

