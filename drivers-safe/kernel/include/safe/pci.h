/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/pci.h - PCI binding with device-managed cleanup, BARs as checked regions, IRQs.
 *
 * Stands for Rust-for-Linux's pci::Driver (probe returns the driver's data or an error; the
 * data is dropped on unbind), pci::Device (enable, bus mastering, DMA mask), pci::Bar (a BAR
 * mapped as an Io<SIZE>, released by devres on unbind) and irq::Registration (a handler
 * owned by a handle, freed when the handle drops).
 *
 *	SAFE_PCI_DRIVER(var, drv_name, dtype, probe, remove, shutdown, groups)
 *		struct pci_driver var with no id table: it binds only through driver_override
 *		or new_id. probe(pdev, &arc) returns a safe_result and, on Ok, the counted
 *		driver data (struct dtype_arc, safe/arc.h), which the binding keeps; remove(pdev,
 *		data) runs on unbind, then the binding drops its reference; shutdown(pdev,
 *		data) runs on reboot and power-off with the device bound.
 *	safe_pci_enable(pdev)			pcim_enable_device + bus master; undone by devres
 *	safe_pci_dma_mask(pdev, bits)		streaming and coherent DMA mask
 *	safe_pci_dma_min_align(pdev, mask)	bounce buffers keep the address bits in @mask
 *	safe_pci_clear_master(pdev)		stop the device's DMA (a device that ignores
 *						its own disable)
 *	safe_pci_map_bar(pdev, bar, io, name)	request and map a BAR into region @io
 *						(safe/mmio.h); fails if the BAR is shorter than
 *						@io's build-time minimum; devres unmaps it
 *	safe_pci_irq_vectors(pdev, min, max, flags, &n)	devres frees the vectors
 *	safe_pci_irq_vectors_free(pdev)		free them earlier (all handlers freed)
 *	SAFE_DEFINE_IRQ_HANDLER(name, type, fn)	adapter calling bool fn(struct type *)
 *	safe_irq_request(irq, pdev, vector, handler, name, data) / safe_irq_free(irq)
 *	safe_irq_disable/enable/sync(irq)	mask, unmask, wait out a running handler
 *	SAFE_PCI_ATTR_WO(attr, dtype, fn)	write-only sysfs attribute of the bound device:
 *		its store adapter calls struct safe_result fn(struct dtype *) with the driver
 *		data (the write's bytes are not looked at); SAFE_PCI_ATTR_GROUPS(name, attrs)
 *		lists them for SAFE_PCI_DRIVER's groups (name_groups)
 *	safe_pci_register(drv) / safe_pci_unregister(drv)	module init and exit
 *
 * What is not modelled: Devres revocation (Rust checks, under RCU, that a BAR is still bound
 * on every access); here the driver's remove path orders teardown before devres runs.
 *
 * Invariants: a mapped region covers at least its build-time minimum; a struct safe_irq with
 * irq != 0 holds one requested handler for data.
 */
#ifndef SAFE_PCI_H
#define SAFE_PCI_H

#include <linux/interrupt.h>
#include <linux/pci.h>
#include <safe/compat.h>
#include <safe/error.h>
#include <safe/mmio.h>

static inline __must_check struct safe_result safe_pci_enable(struct pci_dev *pdev)
{
	SAFE_TRY(safe_from_errno(pcim_enable_device(pdev)));
	pci_set_master(pdev);
	return safe_ok();
}

static inline __must_check struct safe_result safe_pci_dma_mask(struct pci_dev *pdev, unsigned int bits)
{
	return safe_from_errno(dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(bits)));
}

static inline void safe_pci_dma_min_align(struct pci_dev *pdev, unsigned int mask)
{
	dma_set_min_align_mask(&pdev->dev, mask);
}

static inline void safe_pci_clear_master(struct pci_dev *pdev)
{
	pci_clear_master(pdev);
}

static inline __must_check struct safe_result __safe_pci_map_bar(struct pci_dev *pdev, int bar,
						    struct safe_mmio *io, size_t min_len,
						    const char *name)
{
	resource_size_t len = pci_resource_len(pdev, bar);

	if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) || len < min_len) {
		dev_err(&pdev->dev, "BAR%d: %pa bytes of memory, need at least %zu\n", bar, &len,
			min_len);
		return safe_err(-ENODEV);
	}
	SAFE_TRY(safe_from_errno(pcim_iomap_regions(pdev, BIT(bar), name)));
	io->base = pcim_iomap_table(pdev)[bar];
	io->len = len;
	return safe_ok();
}

#define safe_pci_map_bar(pdev, bar, io, name)				\
	__safe_pci_map_bar(pdev, bar, &(io)->raw, safe_mmio_min_len(io), name)

/* Between @min and @max vectors of the kinds in @flags; *@got says how many. */
static inline __must_check struct safe_result safe_pci_irq_vectors(struct pci_dev *pdev, unsigned int min,
						      unsigned int max, unsigned int flags,
						      unsigned int *got)
{
	int n = pci_alloc_irq_vectors(pdev, min, max, flags);

	if (n < 0)
		return safe_err(n);
	*got = n;
	return safe_ok();
}

static inline void safe_pci_irq_vectors_free(struct pci_dev *pdev)
{
	pci_free_irq_vectors(pdev);
}

/* irq::Registration: one requested handler. */
struct safe_irq {
	unsigned int irq;
	void *data;
};

#define SAFE_DEFINE_IRQ_HANDLER(name, type, fn)				\
	static irqreturn_t name(int irq, void *data)			\
	{								\
		/* SAFETY: data is the struct type registered with this handler. */ \
		return fn((struct type *)data) ? IRQ_HANDLED : IRQ_NONE; \
	}

/* Request vector @vector of @pdev for @handler; shared unless the vector is MSI-X. */
static inline __must_check struct safe_result safe_irq_request(struct safe_irq *irq, struct pci_dev *pdev,
						  unsigned int vector, irq_handler_t handler,
						  const char *name, void *data)
{
	int nr = pci_irq_vector(pdev, vector);

	if (nr < 0)
		return safe_err(nr);
	SAFE_TRY(safe_from_errno(request_irq(nr, handler, pdev->msix_enabled ? 0 : IRQF_SHARED,
					     name, data)));
	irq->irq = nr;
	irq->data = data;
	return safe_ok();
}

static inline void safe_irq_free(struct safe_irq *irq)
{
	if (!irq->irq)
		return;
	free_irq(irq->irq, irq->data);
	irq->irq = 0;
}

/* Keep @irq's handler from running (waits for a running one) until safe_irq_enable(). */
static inline void safe_irq_disable(const struct safe_irq *irq)
{
	if (irq->irq)
		disable_irq(irq->irq);
}

static inline void safe_irq_enable(const struct safe_irq *irq)
{
	if (irq->irq)
		enable_irq(irq->irq);
}

/* Wait until a running handler of @irq has returned. */
static inline void safe_irq_sync(const struct safe_irq *irq)
{
	if (irq->irq)
		synchronize_irq(irq->irq);
}

#define SAFE_PCI_DRIVER(var, drv_name, dtype, probe_fn, remove_fn, shutdown_fn, groups) \
	static int var##_probe_adapter(struct pci_dev *pdev,		\
				       const struct pci_device_id *id)	\
	{								\
		struct dtype##_arc *data = NULL;			\
		struct safe_result res = probe_fn(pdev, &data);		\
									\
		if (safe_is_err(res))					\
			return safe_to_errno(res);			\
		pci_set_drvdata(pdev, dtype##_arc_into_foreign(data));	\
		return 0;						\
	}								\
									\
	static void var##_remove_adapter(struct pci_dev *pdev)		\
	{								\
		void *foreign = pci_get_drvdata(pdev);			\
									\
		remove_fn(pdev, dtype##_arc_borrow_foreign(foreign));	\
		pci_set_drvdata(pdev, NULL);				\
		dtype##_arc_put(dtype##_arc_from_foreign(foreign));	\
	}								\
									\
	static void var##_shutdown_adapter(struct pci_dev *pdev)	\
	{								\
		void *foreign = pci_get_drvdata(pdev);			\
									\
		if (foreign)						\
			shutdown_fn(pdev, dtype##_arc_borrow_foreign(foreign)); \
	}								\
									\
	static struct pci_driver var = {				\
		.name = drv_name,					\
		.id_table = NULL,					\
		.probe = var##_probe_adapter,				\
		.remove = var##_remove_adapter,				\
		.shutdown = var##_shutdown_adapter,			\
		.dev_groups = groups,					\
	}

#define SAFE_PCI_ATTR_WO(name, dtype, fn)				\
	static ssize_t name##_store(struct device *d, struct device_attribute *a, \
				    const char *buf, size_t count)	\
	{								\
		/* SAFETY: the attribute exists only while the driver data is bound. */ \
		struct safe_result res = fn(dtype##_arc_borrow_foreign(dev_get_drvdata(d))); \
									\
		return safe_is_err(res) ? safe_to_errno(res) : count;	\
	}								\
	static DEVICE_ATTR_WO(name)

#define SAFE_PCI_ATTR(name)	(&dev_attr_##name.attr)

#define SAFE_PCI_ATTR_GROUPS(name, ...)					\
	static struct attribute *name##_attrs[] = { __VA_ARGS__, NULL };	\
	ATTRIBUTE_GROUPS(name)

static inline __must_check struct safe_result safe_pci_register(struct pci_driver *drv)
{
	return safe_from_errno(pci_register_driver(drv));
}

static inline void safe_pci_unregister(struct pci_driver *drv)
{
	pci_unregister_driver(drv);
}

#endif /* SAFE_PCI_H */
