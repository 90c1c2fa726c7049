// The bench baseline: Fastify + onnxruntime-node doing a plain V2 decode, run and encode for one model,
// with no auth, validation, routing, batching, metrics or logging. `node bare-server.js <model.onnx> <port>`.
import Fastify from 'fastify';
import ort from 'onnxruntime-node';

const [modelPath, portArg] = process.argv.slice(2);
if (!modelPath || !portArg) {
  console.error('usage: bare-server <model.onnx> <port>');
  process.exit(2);
}
const session = await ort.InferenceSession.create(modelPath);
const app = Fastify({ logger: false });

interface V2Input { name: string; datatype: string; shape: number[]; data: number[] | number[][] }

app.get('/v2/health/ready', async () => ({ ready: true }));
app.post<{ Params: { name: string }; Body: { id?: string; inputs: V2Input[] } }>('/v2/models/:name/infer', async (req) => {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of req.body.inputs) {
    const flat = (input.data as unknown[]).flat(Infinity) as number[];
    feeds[input.name] = new ort.Tensor('float32', Float32Array.from(flat), input.shape);
  }
  const result = await session.run(feeds);
  return {
    model_name: req.params.name,
    id: req.body.id ?? req.id,
    outputs: Object.entries(result).map(([name, t]) => ({
      name,
      datatype: t.type === 'int64' ? 'INT64' : 'FP32',
      shape: t.dims,
      data: t.type === 'int64' ? Array.from(t.data as BigInt64Array, Number) : Array.from(t.data as Float32Array),
    })),
  };
});
await app.listen({ host: '127.0.0.1', port: Number(portArg) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
