/**
 * ax650-tool: a tool the model may call, as a flow branch (like http in). Its name, description and
 * JSON Schema of arguments are set in the editor; it belongs to a toolbox that generate nodes offer.
 * When the model calls it, it sends msg.payload = the validated arguments, msg.toolCall = {id, name};
 * the branch ends in an ax650-tool-result node.
 */
import { checkTools } from '../lib/actions';
import { toAx650Error } from '../lib/errors';
import { nodeError } from './shared/i18n';
import { addTool } from './shared/toolbox';
import type { Node, NodeAPI, NodeDef } from './red-types';

interface ToolDef extends NodeDef {
  toolName: string;
  description?: string;
  schema?: string;
  toolbox?: string;
}

export default function register(RED: NodeAPI): void {
  function Ax650ToolNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const cfg = def as ToolDef;
    let parameters: unknown;
    try {
      parameters = cfg.schema && cfg.schema.trim() !== '' ? JSON.parse(cfg.schema) : { type: 'object', properties: {} };
      const [spec] = checkTools([{ type: 'function', function: { name: cfg.toolName, description: cfg.description ?? '', parameters } }]);
      const toolbox = cfg.toolbox || 'default';
      const tool = addTool(toolbox, {
        spec: spec!,
        fire: (call, key, origin) => {
          node.send({ ...origin, payload: call.arguments ?? {}, toolCall: { id: key, name: call.name } });
          node.status({ fill: 'blue', shape: 'dot', text: RED._('ax650-tool.status.called') });
        },
        onActive: () => node.status({}),
      });
      if (tool.duplicate) {
        // The tool node registered first keeps the name: this one is never called while that one stays.
        node.error(RED._('ax650-tool.errors.duplicate', { name: spec!.function.name, toolbox }));
        node.status({ fill: 'red', shape: 'ring', text: RED._('ax650-tool.status.duplicate') });
      } else node.status({});
      node.on('close', (_removed: boolean, done: () => void) => {
        tool.remove();
        done();
      });
    } catch (e) {
      const err = nodeError(RED, toAx650Error(e, 'BAD_INPUT'));
      node.status({ fill: 'red', shape: 'ring', text: RED._('ax650-tool.status.invalid') });
      node.error(err);
    }
  }
  RED.nodes.registerType('ax650-tool', Ax650ToolNode);
}
