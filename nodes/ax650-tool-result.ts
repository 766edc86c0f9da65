/**
 * ax650-tool-result: ends a tool branch (like http response): msg.payload goes back to the model as
 * the result of the call named by msg.toolCall.id.
 */
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from './red-types';
import { answerTool } from './shared/toolbox';

export default function register(RED: NodeAPI): void {
  function Ax650ToolResultNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    this.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
      const call = (msg as NodeMessage & { toolCall?: { id?: unknown } }).toolCall;
      if (!answerTool(call?.id, msg.payload)) done(new Error(RED._('ax650-tool-result.errors.no-call')));
      else done();
    });
  }
  RED.nodes.registerType('ax650-tool-result', Ax650ToolResultNode);
}
