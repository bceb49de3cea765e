// The documents read from the server without JSONDecoder (JSONDecodable, issue 18): one
// init per type, its keys the server's, as `.convertFromSnakeCase` mapped them.

extension TraceDocument.Donor: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        code = try o.field("code")
        intendedUse = try o.field("intended_use")
        living = try o.field("living")
        birthMother = try o.optional("birth_mother")
        registeredAt = try o.field("registered_at")
        consents = try o.field("consents")
        consentWithdrawn = try o.field("consent_withdrawn")
    }
}

extension TraceDocument.Consent: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        donor = try o.field("donor")
        givenOn = try o.field("given_on")
        scope = try o.field("scope")
        takenBy = try o.field("taken_by")
        withdrawnOn = try o.optional("withdrawn_on")
    }
}

extension TraceDocument.Eligibility: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        outcome = try o.field("outcome")
        determination = try o.field("determination")
        signedBy = try o.optional("signed_by")
        signedAt = try o.optional("signed_at")
        signatureIntact = try o.optional("signature_intact")
        problems = try o.field("problems")
    }
}

extension TraceDocument.Collection: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        id = try o.field("id")
        donor = try o.field("donor")
        source = try o.field("source")
        site = try o.field("site")
        collectedAt = try o.field("collected_at")
        collector = try o.field("collector")
        amount = try o.field("amount")
        amountUnit = try o.field("amount_unit")
        transportConditions = try o.field("transport_conditions")
        receivedAt = try o.optional("received_at")
        receivedBy = try o.optional("received_by")
        receiptCondition = try o.optional("receipt_condition")
        eligibility = try o.optional("eligibility")
    }
}

extension TraceDocument.Lot: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        din = try o.field("din")
        checkCharacter = try o.field("check_character")
        stage = try o.field("stage")
        productKind = try o.field("product_kind")
        intendedUse = try o.field("intended_use")
        status = try o.field("status")
        donor = try o.field("donor")
        collection = try o.field("collection")
        parent = try o.optional("parent")
        expiresOn = try o.field("expires_on")
        createdAt = try o.field("created_at")
        eligibility = try o.optional("eligibility")
        consentWithdrawn = try o.field("consent_withdrawn")
        reactiveTests = try o.field("reactive_tests")
        units = try o.optional("units")
        unitVolumeMl = try o.optional("unit_volume_ml")
        cryopreservedAt = try o.optional("cryopreserved_at")
        lastStep = try o.optional("last_step")
        whereabouts = try o.optional("whereabouts")
    }
}

extension TraceDocument.Whereabouts: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        unit = try o.field("unit")
        division = try o.optional("division")
        container = try o.optional("container")
        state = try o.field("state")
        since = try o.optional("since")
        location = try o.optional("location")
        position = try o.optional("position")
        device = try o.optional("device")
        person = try o.optional("person")
        party = try o.optional("party")
        shipment = try o.optional("shipment")
        consignee = try o.optional("consignee")
        receivedAt = try o.optional("received_at")
    }
}

extension TraceDocument.Ancestor: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        din = try o.field("din")
        checkCharacter = try o.field("check_character")
        stage = try o.field("stage")
        status = try o.field("status")
    }
}

extension TraceDocument.Step: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        kind = try o.field("kind")
        performedAt = try o.field("performed_at")
        performedBy = try o.field("performed_by")
        passage = try o.optional("passage")
        cellCount = try o.optional("cell_count")
        viabilityPercent = try o.optional("viability_percent")
        populationDoublings = try o.optional("population_doublings")
        cumulativeDoublings = try o.optional("cumulative_doublings")
        units = try o.optional("units")
        unitVolumeMl = try o.optional("unit_volume_ml")
        note = try o.optional("note")
    }
}

extension TraceDocument.Screening: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        donor = try o.field("donor")
        test = try o.field("test")
        result = try o.field("result")
        testKit = try o.field("test_kit")
        specimenOn = try o.field("specimen_on")
        analyst = try o.field("analyst")
    }
}

extension TraceDocument.DonorTrace: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        donor = try o.field("donor")
        newborns = try o.field("newborns")
        collections = try o.field("collections")
        lots = try o.field("lots")
    }
}

extension TraceDocument.LotAndSteps: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        lot = try o.field("lot")
        steps = try o.field("steps")
    }
}

extension TraceDocument.LotTrace: JSONDecodable {
    public init(json: JSONValue) throws(JSONDecodingError) {
        var o = try JSONObject(json)
        lot = try o.field("lot")
        lineage = try o.field("lineage")
        steps = try o.field("steps")
        collection = try o.field("collection")
        donor = try o.field("donor")
        screening = try o.field("screening")
        materials = try o.optional("materials")
        equipment = try o.optional("equipment")
    }
}

extension TraceDocument.Lot: JSONEncodable {
    public var jsonValue: JSONValue {
        .object(omittingNil: [
            ("din", din.jsonValue),
            ("check_character", checkCharacter.jsonValue),
            ("stage", stage.jsonValue),
            ("product_kind", productKind.jsonValue),
            ("intended_use", intendedUse.jsonValue),
            ("status", status.jsonValue),
            ("donor", donor.jsonValue),
            ("collection", collection.jsonValue),
            ("parent", parent?.jsonValue),
            ("expires_on", expiresOn.jsonValue),
            ("created_at", createdAt.jsonValue),
            ("eligibility", eligibility?.jsonValue),
            ("consent_withdrawn", consentWithdrawn.jsonValue),
            ("reactive_tests", reactiveTests.jsonValue),
            ("units", units?.jsonValue),
            ("unit_volume_ml", unitVolumeMl?.jsonValue),
            ("cryopreserved_at", cryopreservedAt?.jsonValue),
            ("last_step", lastStep?.jsonValue),
            ("whereabouts", whereabouts?.jsonValue),
        ])
    }
}

extension TraceDocument.Whereabouts: JSONEncodable {
    public var jsonValue: JSONValue {
        .object(omittingNil: [
            ("unit", unit.jsonValue),
            ("division", division?.jsonValue),
            ("container", container?.jsonValue),
            ("state", state.jsonValue),
            ("since", since?.jsonValue),
            ("location", location?.jsonValue),
            ("position", position?.jsonValue),
            ("device", device?.jsonValue),
            ("person", person?.jsonValue),
            ("party", party?.jsonValue),
            ("shipment", shipment?.jsonValue),
            ("consignee", consignee?.jsonValue),
            ("received_at", receivedAt?.jsonValue),
        ])
    }
}

extension TraceDocument.Step: JSONEncodable {
    public var jsonValue: JSONValue {
        .object(omittingNil: [
            ("kind", kind.jsonValue),
            ("performed_at", performedAt.jsonValue),
            ("performed_by", performedBy.jsonValue),
            ("passage", passage?.jsonValue),
            ("cell_count", cellCount?.jsonValue),
            ("viability_percent", viabilityPercent?.jsonValue),
            ("population_doublings", populationDoublings?.jsonValue),
            ("cumulative_doublings", cumulativeDoublings?.jsonValue),
            ("units", units?.jsonValue),
            ("unit_volume_ml", unitVolumeMl?.jsonValue),
            ("note", note?.jsonValue),
        ])
    }
}

