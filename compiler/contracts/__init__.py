"""Action contracts: what an action container accepts, produces and is allowed to do."""

from compiler.contracts.catalog import Catalog, load_catalog
from compiler.contracts.model import ActionContract, ContractInput, ContractOutput, InputType

__all__ = ["ActionContract", "Catalog", "ContractInput", "ContractOutput", "InputType", "load_catalog"]
