/// The names people read for a lot's stage and product kind, where the database stores
/// code words ("drug_product", "extracellular_vesicles"): labels and certificates print these.
public enum ProductNames {
    public static func name(stage: String, productKind: String) -> String {
        let kind = switch productKind {
        case "cells": "Mesenchymal stromal cells (MSC)"
        case "conditioned_medium": "MSC-conditioned medium"
        case "extracellular_vesicles": "MSC-derived extracellular vesicles"
        default: productKind.replacing("_", with: " ")
        }
        let stageName = switch stage {
        case "master_cell_bank": "master cell bank"
        case "working_cell_bank": "working cell bank"
        case "drug_product": "drug product"
        default: stage.replacing("_", with: " ")
        }
        return "\(kind), \(stageName)"
    }
}
