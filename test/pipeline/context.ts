/** A fixed compilation context shared by the pipeline tests: two local ports, one port group, one address set. */
import type {MatchContext} from '../../src/core/pipeline/matches.js'
import {ovnSymbolTable} from '../../src/core/pipeline/symbols.js'

const ports: Record<string, number> = {lsp1: 1, lsp2: 2, _MC_flood: 32768}

/** Context with ports lsp1=1, lsp2=2, lsp1 resident here, @pg1 and $as1 defined. */
export function testContext(): MatchContext {
  return {
    symtab: ovnSymbolTable(),
    lookupPort: (name) => ports[name],
    isChassisResident: (name) => name === 'lsp1',
    addressSets: new Map([['as1', ['10.0.0.1', '10.0.0.2', '192.168.0.0/16']]]),
    portGroups: new Map([['pg1', ['lsp1', 'lsp2', 'lsp-elsewhere']]]),
  }
}
